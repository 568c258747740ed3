// The list of operations (proto/operations.h) against sluice.proto: it holds
// every operation of the Request and Response oneofs, under the names the
// protocol gives them, and the CLI's names are aws-cli's spelling of SQS's.
#include "proto/operations.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "broker/server/dispatch.h"

namespace sluice {
namespace {

struct Listed {
  std::string_view name;
  std::string_view field;
  std::string_view cli_name;
};

const std::vector<Listed>& ListedOperations() {
  static const std::vector<Listed> kListed = {
#define SLUICE_LISTED(Name, field, cli_name) {#Name, #field, cli_name},
      SLUICE_OPERATIONS(SLUICE_LISTED)
#undef SLUICE_LISTED
  };
  return kListed;
}

// "SendMessageBatch" gives "send-message-batch".
std::string KebabCase(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (!out.empty()) out += '-';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

TEST(OperationsTest, ListHoldsTheOneofsInOrder) {
  const google::protobuf::OneofDescriptor* requests =
      pb::Request::descriptor()->FindOneofByName("op");
  const google::protobuf::OneofDescriptor* responses =
      pb::Response::descriptor()->FindOneofByName("op");
  const std::vector<Listed>& listed = ListedOperations();
  ASSERT_EQ(static_cast<size_t>(requests->field_count()), listed.size());
  ASSERT_EQ(static_cast<size_t>(responses->field_count()), listed.size());
  for (size_t i = 0; i < listed.size(); ++i) {
    const std::string name(listed[i].name);
    const google::protobuf::FieldDescriptor* request = requests->field(static_cast<int>(i));
    const google::protobuf::FieldDescriptor* response = responses->field(static_cast<int>(i));
    EXPECT_EQ(request->name(), listed[i].field);
    EXPECT_EQ(request->message_type()->name(), name + "Request");
    EXPECT_EQ(response->name(), listed[i].field);
    EXPECT_EQ(response->message_type()->name(), name + "Response");
    EXPECT_EQ(response->number(), request->number()) << name;
    EXPECT_EQ(OperationName(static_cast<pb::Request::OpCase>(request->number())), name);
  }
}

TEST(OperationsTest, CliNamesAreTheSqsNamesInAwsCliSpelling) {
  for (const Listed& op : ListedOperations()) {
    EXPECT_EQ(op.cli_name, KebabCase(op.name));
  }
}

}  // namespace
}  // namespace sluice
