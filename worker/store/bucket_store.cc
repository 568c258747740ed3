#include "worker/store/bucket_store.h"

namespace sluice::worker {
namespace {

// All of the move in Finish(): Move().
class DeferredMove : public PendingMove {
 public:
  DeferredMove(const BucketStore* store, std::string bucket, std::string from, std::string to)
      : store_(store), bucket_(std::move(bucket)), from_(std::move(from)), to_(std::move(to)) {}

  Result<bool, JobError> Finish() override { return store_->Move(bucket_, from_, to_); }
  void Abandon() override {}

 private:
  const BucketStore* store_;
  const std::string bucket_, from_, to_;
};

}  // namespace

std::unique_ptr<PendingMove> BucketStore::StartMove(const std::string& bucket,
                                                    const std::string& from,
                                                    const std::string& to) const {
  return std::make_unique<DeferredMove>(this, bucket, from, to);
}

}  // namespace sluice::worker
