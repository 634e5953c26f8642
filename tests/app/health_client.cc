// Health and reflection clients for the integration tests (see header).
#include "tests/app/health_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/support/byte_buffer.h"

namespace rtsptest::testing {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

std::chrono::system_clock::time_point Deadline(absl::Duration timeout) {
  return absl::ToChronoTime(absl::Now() + timeout);
}

// Field numbers of grpc/reflection/v1alpha/reflection.proto.
constexpr int kRequestFileContainingSymbol = 4;
constexpr int kRequestListServices = 7;
constexpr int kResponseFileDescriptor = 4;
constexpr int kResponseListServices = 6;
constexpr int kResponseError = 7;

// Appends a length-delimited field (wire type 2) with a short payload.
void AppendStringField(int number, const std::string& value, std::string* out) {
  out->push_back(static_cast<char>((number << 3) | 2));
  uint64_t size = value.size();
  do {
    uint8_t byte = size & 0x7f;
    size >>= 7;
    out->push_back(static_cast<char>(size != 0 ? byte | 0x80 : byte));
  } while (size != 0);
  out->append(value);
}

// One request on a ServerReflectionInfo stream; returns the raw response.
absl::StatusOr<std::string> ReflectionRoundTrip(const std::shared_ptr<grpc::Channel>& channel,
                                                const std::string& request) {
  grpc::ClientContext context;
  context.set_deadline(Deadline(absl::Seconds(5)));
  const grpc::internal::RpcMethod method(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::internal::RpcMethod::BIDI_STREAMING);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel.get(), method, &context));
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1);
  grpc::ByteBuffer in;
  const bool wrote = stream->Write(out);
  stream->WritesDone();
  const bool read = wrote && stream->Read(&in);
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("ServerReflectionInfo: ", status.error_code(), " ", status.error_message()));
  }
  if (!read) return absl::UnavailableError("ServerReflectionInfo: no response");
  std::vector<grpc::Slice> slices;
  if (!in.Dump(&slices).ok()) return absl::InternalError("ServerReflectionInfo: bad buffer");
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

// The length-delimited field `number` of a parsed message, or nullptr.
const UnknownField* FindField(const UnknownFieldSet& fields, int number) {
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == number &&
        fields.field(i).type() == UnknownField::TYPE_LENGTH_DELIMITED) {
      return &fields.field(i);
    }
  }
  return nullptr;
}

absl::Status ErrorFromResponse(const UnknownFieldSet& response) {
  const UnknownField* error = FindField(response, kResponseError);
  if (error == nullptr) return absl::DataLossError("reflection: unexpected response");
  UnknownFieldSet fields;
  fields.ParseFromString(error->length_delimited());
  int64_t code = 0;
  std::string message;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == 1) code = static_cast<int64_t>(fields.field(i).varint());
    if (fields.field(i).number() == 2) message = fields.field(i).length_delimited();
  }
  return absl::NotFoundError(absl::StrCat("reflection error_response: code ", code, ": ", message));
}

}  // namespace

std::string StatusName(ServingStatus status) {
  return HealthCheckResponse::ServingStatus_Name(status);
}

HealthClient::HealthClient(int grpc_port)
    : channel_(grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port),
                                   grpc::InsecureChannelCredentials())),
      stub_(grpc::health::v1::Health::NewStub(channel_)) {}

CheckResult HealthClient::Check(const std::string& service, absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(Deadline(timeout));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub_->Check(&context, request, &response);
  CheckResult result;
  result.code = status.error_code();
  if (status.ok()) result.status = response.status();
  return result;
}

HealthWatch::HealthWatch(HealthClient& client, const std::string& service) {
  HealthCheckRequest request;
  request.set_service(service);
  reader_ = std::thread(&HealthWatch::Read, this, client.stub()->Watch(&context_, request));
}

HealthWatch::~HealthWatch() {
  context_.TryCancel();
  reader_.join();
}

void HealthWatch::Read(std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader) {
  HealthCheckResponse response;
  while (reader->Read(&response)) {
    absl::MutexLock lock(&mu_);
    pending_.push_back(Update{response.status(), absl::Now()});
    history_.push_back(response.status());
  }
  (void)reader->Finish();
  absl::MutexLock lock(&mu_);
  ended_ = true;
}

std::optional<HealthWatch::Update> HealthWatch::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !pending_.empty() || ended_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (pending_.empty()) return std::nullopt;
  Update update = pending_.front();
  pending_.pop_front();
  return update;
}

std::optional<HealthWatch::Update> HealthWatch::NextWith(ServingStatus status,
                                                         absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::optional<Update> update = Next(deadline - absl::Now());
    if (!update.has_value() || update->status == status) return update;
  }
}

std::vector<ServingStatus> HealthWatch::History() const {
  absl::MutexLock lock(&mu_);
  return history_;
}

absl::StatusOr<std::vector<std::string>> ReflectionListServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  std::string request;
  AppendStringField(kRequestListServices, "", &request);
  absl::StatusOr<std::string> raw = ReflectionRoundTrip(channel, request);
  if (!raw.ok()) return raw.status();
  UnknownFieldSet response;
  if (!response.ParseFromString(*raw)) return absl::DataLossError("reflection: unparsable");
  const UnknownField* list = FindField(response, kResponseListServices);
  if (list == nullptr) return ErrorFromResponse(response);
  UnknownFieldSet services;
  services.ParseFromString(list->length_delimited());
  std::vector<std::string> names;
  for (int i = 0; i < services.field_count(); ++i) {
    UnknownFieldSet service;
    service.ParseFromString(services.field(i).length_delimited());
    const UnknownField* name = FindField(service, 1);
    if (name != nullptr) names.push_back(name->length_delimited());
  }
  return names;
}

absl::StatusOr<std::vector<std::string>> ReflectionFileContainingSymbol(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol) {
  std::string request;
  AppendStringField(kRequestFileContainingSymbol, symbol, &request);
  absl::StatusOr<std::string> raw = ReflectionRoundTrip(channel, request);
  if (!raw.ok()) return raw.status();
  UnknownFieldSet response;
  if (!response.ParseFromString(*raw)) return absl::DataLossError("reflection: unparsable");
  const UnknownField* files = FindField(response, kResponseFileDescriptor);
  if (files == nullptr) return ErrorFromResponse(response);
  UnknownFieldSet descriptors;
  descriptors.ParseFromString(files->length_delimited());
  std::vector<std::string> names;
  for (int i = 0; i < descriptors.field_count(); ++i) {
    google::protobuf::FileDescriptorProto file;
    if (!file.ParseFromString(descriptors.field(i).length_delimited())) {
      return absl::DataLossError("reflection: bad FileDescriptorProto");
    }
    names.push_back(file.name());
  }
  return names;
}

}  // namespace rtsptest::testing
