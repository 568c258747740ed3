// The S3 client against a canned HTTP server on 127.0.0.1: what it sends (the
// Host header, the path, SigV4's headers) and how it reads what comes back
// (the size cap, 404 and 403, retries of 5xx and of CopyObject's 200 with an
// error). The server answers one request per connection, from a script.
#include "common/s3/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::s3 {
namespace {

// SHA-256 of the empty string, and of "hello".
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kHelloSha256[] = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

struct Received {
  std::string request_line;                    // "GET /photos/cat.jpg HTTP/1.1"
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// A whole HTTP/1.1 answer that closes its connection.
std::string Answer(int status, std::string_view reason, std::string_view body,
                   std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

std::string ErrorAnswer(int status, std::string_view reason, std::string_view code,
                        std::string_view message) {
  return Answer(status, reason,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
                    "</Code><Message>" + std::string(message) +
                    "</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>",
                "Content-Type: application/xml\r\n");
}

// Listens on 127.0.0.1 at a port of the kernel's choosing and answers the
// n-th request with the n-th of `script` (the last one again when the script
// runs out), recording each request.
class CannedServer {
 public:
  explicit CannedServer(std::vector<std::string> script) : script_(std::move(script)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen: " << std::strerror(errno);
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedServer() {
    // Wakes the accept() below.
    shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
  }
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void Serve() {
    for (;;) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      Received request;
      if (Read(fd, &request)) {
        std::string answer;
        {
          std::lock_guard lock(mu_);
          answer = script_[std::min(received_.size(), script_.size() - 1)];
          received_.push_back(std::move(request));
        }
        for (std::string_view left = answer; !left.empty();) {
          const ssize_t n = send(fd, left.data(), left.size(), MSG_NOSIGNAL);
          if (n <= 0) break;
          left.remove_prefix(static_cast<size_t>(n));
        }
      }
      shutdown(fd, SHUT_WR);
      close(fd);
    }
  }

  static bool Read(int fd, Received* request) {
    std::string data;
    size_t end = std::string::npos;
    char buffer[4096];
    while ((end = data.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<size_t>(n));
    }
    const std::string head = data.substr(0, end);
    size_t at = head.find("\r\n");
    request->request_line = head.substr(0, at);
    while (at != std::string::npos) {
      const size_t next = head.find("\r\n", at + 2);
      const std::string line =
          head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const size_t value = line.find_first_not_of(' ', colon + 1);
        request->headers[name] = value == std::string::npos ? "" : line.substr(value);
      }
      at = next;
    }
    size_t length = 0;
    if (auto it = request->headers.find("content-length"); it != request->headers.end()) {
      length = std::stoul(it->second);
    }
    request->body = data.substr(end + 4);
    while (request->body.size() < length) {
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      request->body.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  const std::vector<std::string> script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Received> received_;
};

Config TestConfig(const std::string& host, bool path_style = true) {
  Config config;
  config.scheme = "http";
  config.host = host;
  config.region = "us-east-1";
  config.path_style = path_style;
  config.access_key_id = "AKIDEXAMPLE";
  config.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  return config;
}

// Quick retries, so that a test of them takes milliseconds.
ClientOptions FastRetries(std::atomic<int>* attempts = nullptr) {
  ClientOptions options;
  options.max_attempts = 3;
  options.first_backoff_ms = 1;
  options.max_backoff_ms = 2;
  options.connect_timeout_ms = 2'000;
  options.stall_seconds = 5;
  if (attempts != nullptr) {
    options.observer = [attempts](std::string_view, int, double) { ++*attempts; };
  }
  return options;
}

// --- What is sent ------------------------------------------------------------------

TEST(S3ClientTest, GetIsSignedPathStyle) {
  CannedServer server({Answer(200, "OK", "jpeg bytes", "ETag: \"fba9dede5f27731c97\"\r\n")});
  Client client(TestConfig(server.host()), FastRetries());
  auto object = client.Get("photos", "pending/a b+c.jpg", 1 << 20);
  ASSERT_TRUE(object.ok()) << object.error().message;
  EXPECT_EQ(object->data, "jpeg bytes");
  EXPECT_EQ(object->etag, "fba9dede5f27731c97");

  const std::vector<Received> received = server.received();
  ASSERT_EQ(received.size(), 1u);
  const Received& request = received[0];
  EXPECT_EQ(request.request_line, "GET /photos/pending/a%20b%2Bc.jpg HTTP/1.1");
  EXPECT_EQ(request.headers.at("host"), server.host());
  EXPECT_EQ(request.headers.at("x-amz-content-sha256"), kEmptySha256);
  ASSERT_EQ(request.headers.count("x-amz-date"), 1u);
  const std::string& date = request.headers.at("x-amz-date");
  ASSERT_EQ(date.size(), 16u) << date;  // 20150830T123600Z
  const std::string& authorization = request.headers.at("authorization");
  EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + date.substr(0, 8) +
                                    "/us-east-1/s3/aws4_request, ",
                                0),
            0u)
      << authorization;
  EXPECT_NE(authorization.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date, "),
            std::string::npos)
      << authorization;
  EXPECT_NE(authorization.find("Signature="), std::string::npos) << authorization;
  EXPECT_EQ(request.headers.count("x-amz-security-token"), 0u);
}

TEST(S3ClientTest, VirtualHostStylePutsTheBucketInTheHost) {
  CannedServer server({Answer(200, "OK", "x")});
  // curl resolves every *.localhost name to the loopback address itself.
  const std::string host = "localhost:" + std::to_string(server.port());
  Client client(TestConfig(host, /*path_style=*/false), FastRetries());
  auto object = client.Get("photos", "pending/cat.jpg", 0);
  ASSERT_TRUE(object.ok()) << object.error().message;
  const std::vector<Received> received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].request_line, "GET /pending/cat.jpg HTTP/1.1");
  EXPECT_EQ(received[0].headers.at("host"), "photos." + host);
}

TEST(S3ClientTest, PutSignsTheHashOfItsBody) {
  CannedServer server({Answer(200, "OK", "", "ETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n")});
  Client client(TestConfig(server.host()), FastRetries());
  auto etag = client.Put("photos", "resized/cat-200.jpg", "hello", "image/jpeg");
  ASSERT_TRUE(etag.ok()) << etag.error().message;
  EXPECT_EQ(*etag, "5d41402abc4b2a76b9719d911017c592");
  const std::vector<Received> received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].request_line, "PUT /photos/resized/cat-200.jpg HTTP/1.1");
  EXPECT_EQ(received[0].body, "hello");
  EXPECT_EQ(received[0].headers.at("x-amz-content-sha256"), kHelloSha256);
  EXPECT_EQ(received[0].headers.at("content-type"), "image/jpeg");
  EXPECT_EQ(received[0].headers.count("expect"), 0u);
}

TEST(S3ClientTest, SessionTokenIsSentAndSigned) {
  CannedServer server({Answer(204, "No Content", "")});
  Config config = TestConfig(server.host());
  config.session_token = "IQoJb3JpZ2luX2VjEJr";
  Client client(config, FastRetries());
  auto deleted = client.Delete("photos", "pending/cat.jpg");
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  const std::vector<Received> received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].request_line, "DELETE /photos/pending/cat.jpg HTTP/1.1");
  EXPECT_EQ(received[0].headers.at("x-amz-security-token"), "IQoJb3JpZ2luX2VjEJr");
  EXPECT_NE(received[0]
                .headers.at("authorization")
                .find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
            std::string::npos)
      << received[0].headers.at("authorization");
}

TEST(S3ClientTest, CopySendsItsSourceEncoded) {
  CannedServer server({Answer(200, "OK",
                              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult>"
                              "<LastModified>2009-10-28T22:32:00.000Z</LastModified>"
                              "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag>"
                              "</CopyObjectResult>")});
  Client client(TestConfig(server.host()), FastRetries());
  auto copied = client.Copy("photos", "pending/a b.jpg", "originals/a b.jpg");
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  const std::vector<Received> received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].request_line, "PUT /photos/originals/a%20b.jpg HTTP/1.1");
  EXPECT_EQ(received[0].headers.at("x-amz-copy-source"), "/photos/pending/a%20b.jpg");
  EXPECT_EQ(received[0].headers.at("x-amz-content-sha256"), kEmptySha256);
  EXPECT_NE(received[0].headers.at("authorization").find("x-amz-copy-source"), std::string::npos);
}

TEST(S3ClientTest, ListAsksForUrlEncodingAndDecodesKeys) {
  CannedServer server({Answer(200, "OK",
                              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                              "<Name>photos</Name><Prefix>pending%2F</Prefix>"
                              "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
                              "<NextContinuationToken>tok/2=</NextContinuationToken>"
                              "<Contents><Key>pending/a+b%2Bc.jpg</Key><Size>3</Size>"
                              "<ETag>&quot;e1&quot;</ETag></Contents></ListBucketResult>")});
  Client client(TestConfig(server.host()), FastRetries());
  auto page = client.List("photos", "pending/", "tok/1=", 500);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "pending/a b+c.jpg");
  EXPECT_EQ(page->objects[0].etag, "e1");
  EXPECT_EQ(page->next_continuation_token, "tok/2=");
  const std::vector<Received> received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].request_line,
            "GET /photos?continuation-token=tok%2F1%3D&encoding-type=url&list-type=2"
            "&max-keys=500&prefix=pending%2F HTTP/1.1");
}

TEST(S3ClientTest, ListOfAMalformedAnswerIsAnError) {
  CannedServer server({Answer(200, "OK", "not xml")});
  Client client(TestConfig(server.host()), FastRetries());
  auto page = client.List("photos", "pending/", "");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().kind, ErrorKind::kUnavailable);
}

// --- The size cap ------------------------------------------------------------------

TEST(S3ClientTest, GetRefusesAContentLengthOverTheCap) {
  // The body is cut short: had the client read on, it would have failed
  // differently (a partial transfer, retried).
  CannedServer server(
      {"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\nonly this"});
  std::atomic<int> attempts = 0;
  Client client(TestConfig(server.host()), FastRetries(&attempts));
  auto object = client.Get("photos", "pending/huge.jpg", 1000);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().kind, ErrorKind::kTooLarge);
  EXPECT_NE(object.error().message.find("1000"), std::string::npos) << object.error().message;
  EXPECT_EQ(server.received().size(), 1u);
  EXPECT_EQ(attempts, 1);
}

TEST(S3ClientTest, GetRefusesAChunkedBodyOverTheCap) {
  const std::string chunk(600, 'x');
  CannedServer server(
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
       "258\r\n" +
       chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n"});
  Client client(TestConfig(server.host()), FastRetries());
  auto object = client.Get("photos", "pending/huge.jpg", 1000);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().kind, ErrorKind::kTooLarge);
  EXPECT_EQ(server.received().size(), 1u);
}

TEST(S3ClientTest, GetAcceptsAnObjectOfExactlyTheCap) {
  CannedServer server({Answer(200, "OK", std::string(1000, 'x'))});
  Client client(TestConfig(server.host()), FastRetries());
  auto object = client.Get("photos", "pending/cat.jpg", 1000);
  ASSERT_TRUE(object.ok()) << object.error().message;
  EXPECT_EQ(object->data.size(), 1000u);
}

// --- Errors and retries ------------------------------------------------------------

TEST(S3ClientTest, NotFoundAtOnce) {
  CannedServer server(
      {ErrorAnswer(404, "Not Found", "NoSuchKey", "The specified key does not exist.")});
  std::atomic<int> attempts = 0;
  Client client(TestConfig(server.host()), FastRetries(&attempts));
  auto object = client.Get("photos", "pending/cat.jpg", 1 << 20);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(object.error().http_status, 404);
  EXPECT_EQ(object.error().code, "NoSuchKey");
  EXPECT_EQ(object.error().message,
            "GetObject photos/pending/cat.jpg: 404 NoSuchKey: The specified key does not exist.");
  EXPECT_EQ(server.received().size(), 1u);
  EXPECT_EQ(attempts, 1);
}

TEST(S3ClientTest, NotFoundWithoutABody) {
  CannedServer server({Answer(404, "Not Found", "")});
  Client client(TestConfig(server.host()), FastRetries());
  auto object = client.Get("photos", "pending/cat.jpg", 1 << 20);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(object.error().code, "");
  EXPECT_EQ(server.received().size(), 1u);
}

TEST(S3ClientTest, AccessDeniedAtOnce) {
  CannedServer server({ErrorAnswer(403, "Forbidden", "SignatureDoesNotMatch",
                                   "The request signature we calculated does not match")});
  Client client(TestConfig(server.host()), FastRetries());
  auto etag = client.Put("photos", "resized/cat-200.jpg", "hello");
  ASSERT_FALSE(etag.ok());
  EXPECT_EQ(etag.error().kind, ErrorKind::kAccessDenied);
  EXPECT_EQ(etag.error().http_status, 403);
  EXPECT_EQ(etag.error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(server.received().size(), 1u);
}

TEST(S3ClientTest, OtherClientErrorsAreRejectedAtOnce) {
  CannedServer server({ErrorAnswer(400, "Bad Request", "InvalidArgument", "Invalid Argument")});
  Client client(TestConfig(server.host()), FastRetries());
  auto deleted = client.Delete("photos", "pending/cat.jpg");
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().kind, ErrorKind::kRejected);
  EXPECT_EQ(deleted.error().code, "InvalidArgument");
  EXPECT_EQ(server.received().size(), 1u);
}

TEST(S3ClientTest, SlowDownIsRetriedUpToMaxAttempts) {
  CannedServer server(
      {ErrorAnswer(503, "Slow Down", "SlowDown", "Please reduce your request rate.")});
  std::atomic<int> attempts = 0;
  Client client(TestConfig(server.host()), FastRetries(&attempts));
  auto object = client.Get("photos", "pending/cat.jpg", 1 << 20);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(object.error().http_status, 503);
  EXPECT_EQ(object.error().code, "SlowDown");
  EXPECT_EQ(server.received().size(), 3u);
  EXPECT_EQ(attempts, 3);
}

TEST(S3ClientTest, RetrySucceedsAfterServerErrors) {
  CannedServer server(
      {ErrorAnswer(503, "Slow Down", "SlowDown", "Please reduce your request rate."),
       Answer(500, "Internal Server Error", ""), Answer(200, "OK", "jpeg bytes")});
  Client client(TestConfig(server.host()), FastRetries());
  auto object = client.Get("photos", "pending/cat.jpg", 1 << 20);
  ASSERT_TRUE(object.ok()) << object.error().message;
  EXPECT_EQ(object->data, "jpeg bytes");
  EXPECT_EQ(server.received().size(), 3u);
}

TEST(S3ClientTest, TooManyRequestsIsRetried) {
  CannedServer server({Answer(429, "Too Many Requests", "")});
  Client client(TestConfig(server.host()), FastRetries());
  auto deleted = client.Delete("photos", "pending/cat.jpg");
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(server.received().size(), 3u);
}

TEST(S3ClientTest, CopyWithAnErrorInA200IsRetried) {
  const std::string failed =
      Answer(200, "OK",
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
             "<Message>We encountered an internal error. Please try again.</Message></Error>");
  CannedServer server({failed});
  Client client(TestConfig(server.host()), FastRetries());
  auto copied = client.Copy("photos", "pending/cat.jpg", "originals/cat.jpg");
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(copied.error().http_status, 200);
  EXPECT_EQ(copied.error().code, "InternalError");
  EXPECT_EQ(server.received().size(), 3u);
}

TEST(S3ClientTest, CopyRecoversAfterAnErrorInA200) {
  CannedServer server(
      {Answer(200, "OK", "<Error><Code>InternalError</Code></Error>"),
       Answer(200, "OK", "<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>")});
  Client client(TestConfig(server.host()), FastRetries());
  auto copied = client.Copy("photos", "pending/cat.jpg", "originals/cat.jpg");
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(server.received().size(), 2u);
}

TEST(S3ClientTest, NoServerIsUnavailableAfterTheRetries) {
  // A port that was free a moment ago: connections are refused.
  int port = 0;
  {
    CannedServer gone({Answer(200, "OK", "")});
    port = gone.port();
  }
  std::atomic<int> attempts = 0;
  Client client(TestConfig("127.0.0.1:" + std::to_string(port)), FastRetries(&attempts));
  auto object = client.Get("photos", "pending/cat.jpg", 1 << 20);
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(object.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(object.error().http_status, 0);
  EXPECT_EQ(attempts, 3);
}

TEST(S3ClientTest, CallsInARowEachGetTheirOwnAnswer) {
  CannedServer server({Answer(200, "OK", "one"), Answer(200, "OK", "two")});
  Client client(TestConfig(server.host()), FastRetries());
  auto first = client.Get("photos", "a.jpg", 0);
  auto second = client.Get("photos", "b.jpg", 0);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first->data, "one");
  EXPECT_EQ(second->data, "two");
  const std::vector<Received> received = server.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].request_line, "GET /photos/a.jpg HTTP/1.1");
  EXPECT_EQ(received[1].request_line, "GET /photos/b.jpg HTTP/1.1");
}

}  // namespace
}  // namespace sluice::s3
