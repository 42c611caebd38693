// The etcd lock client of live mode: JSON requests to the v3 gateway over libcurl, base64 keys
// and values, failover over the endpoint list, and the lease / transaction protocol.
#include "real_backends/etcd_lock.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/assert.h"

namespace rehearse::live {

namespace {
constexpr long kRequestTimeoutMs = 1000;
constexpr long kConnectTimeoutMs = 500;
constexpr std::int64_t kLeaseTtlMinS = 2;  // etcd refuses shorter leases
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcNotFound = 5;
static_assert(kConnectTimeoutMs < kRequestTimeoutMs);

constexpr const char* kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::string& text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : text) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kBase64[(buffer << (6 - bits)) & 0x3F];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::string base64_decode(const std::string& text) {
  std::array<int, 256> index{};
  index.fill(-1);
  for (int i = 0; i < 64; ++i) index[static_cast<unsigned char>(kBase64[i])] = i;
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : text) {
    if (index[c] < 0) break;  // '=' padding ends the data
    buffer = (buffer << 6) | static_cast<std::uint32_t>(index[c]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

// The gateway writes int64 fields as strings and leaves out zero values.
std::int64_t int_field(const nlohmann::json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) return 0;
  const nlohmann::json& field = object.at(name);
  if (field.is_number_integer()) return field.get<std::int64_t>();
  if (!field.is_string()) return 0;
  const std::string text = field.get<std::string>();
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// The lock key as the last range of a transaction's responses saw it (an empty object: absent).
nlohmann::json ranged_key(const nlohmann::json& txn) {
  if (!txn.contains("responses")) return nlohmann::json::object();
  for (auto it = txn.at("responses").rbegin(); it != txn.at("responses").rend(); ++it) {
    if (!it->contains("response_range")) continue;
    const nlohmann::json& range = it->at("response_range");
    if (range.contains("kvs") && !range.at("kvs").empty()) return range.at("kvs").front();
    return nlohmann::json::object();
  }
  return nlohmann::json::object();
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}
}  // namespace

Result<std::string> parse_etcd_endpoint(const std::string& text) {
  const std::string scheme = "http://";
  const std::string rest = text.rfind(scheme, 0) == 0 ? text.substr(scheme.size()) : "";
  const auto colon = rest.rfind(':');
  if (rest.empty() || colon == std::string::npos || colon == 0) {
    return Status::invalid(fmt::format("'{}' is not an etcd client URL http://HOST:PORT", text));
  }
  int port = 0;
  auto [stop, error] = std::from_chars(rest.data() + colon + 1, rest.data() + rest.size(), port);
  if (error != std::errc() || stop != rest.data() + rest.size() || port <= 0 || port > 65535) {
    return Status::invalid(fmt::format("'{}' has no valid port (expected http://HOST:PORT)", text));
  }
  return text;
}

EtcdLockClient::EtcdLockClient(std::vector<std::string> endpoints, std::string key, std::string holder, const StopSignal& stop)
    : endpoints_(std::move(endpoints)), key_(std::move(key)), value_(std::move(holder)), stop_(stop) {
  REHEARSE_ASSERT(!endpoints_.empty());
  REHEARSE_ASSERT(!key_.empty());
  for (const auto& endpoint : endpoints_) REHEARSE_ASSERT(parse_etcd_endpoint(endpoint).is_ok());
  curl_init_once();
  curl_ = curl_easy_init();
  REHEARSE_ASSERT(curl_ != nullptr);
}

EtcdLockClient::~EtcdLockClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

// One POST; unavailable when the member cannot be reached (or serves no quorum), timeout when
// it did not answer in time, failed on any other error answer.
Result<nlohmann::json> EtcdLockClient::post_to(const std::string& endpoint, const std::string& path, const std::string& body) {
  CURL* curl = static_cast<CURL*>(curl_);
  std::string answer;
  const std::string url = endpoint + path;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  const std::string where = fmt::format("etcd {}{}", endpoint, path);
  if (code == CURLE_OPERATION_TIMEDOUT) return Status::timeout(where + ": no answer in time");
  if (code != CURLE_OK) return Status::unavailable(fmt::format("{}: {}", where, curl_easy_strerror(code)));
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  nlohmann::json parsed = nlohmann::json::parse(answer, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return Status::failed(fmt::format("{}: HTTP {}, not JSON", where, http_status));
  if (http_status == 200 && !parsed.contains("error")) return parsed;
  const std::string message = parsed.value("message", parsed.value("error", std::string("?")));
  const int grpc_code = parsed.value("code", 0);
  if (grpc_code == kGrpcUnavailable) return Status::unavailable(fmt::format("{}: {}", where, message));
  if (grpc_code == kGrpcNotFound) return Status::invalid(fmt::format("{}: {}", where, message));  // lease not found
  return Status::failed(fmt::format("{}: HTTP {}: {}", where, http_status, message));
}

// To the endpoint that answered last, then to each next one while they cannot be reached.
Result<nlohmann::json> EtcdLockClient::post(const std::string& path, const nlohmann::json& body) {
  if (stop_.stopping.load()) return Status::unavailable("the run is stopping");
  const std::string text = body.dump();
  Status last = Status::unavailable("etcd: no endpoint");
  for (std::size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
    const std::size_t index = (current_ + attempt) % endpoints_.size();
    Result<nlohmann::json> answer = post_to(endpoints_[index], path, text);
    if (answer.is_ok() || !(answer.status().is_unavailable() || answer.status().is_timeout())) {
      current_ = index;
      return answer;
    }
    last = answer.status();
  }
  return last;
}

// Best effort: a lease left behind expires at its TTL (errors ignored on purpose).
void EtcdLockClient::revoke(std::int64_t lease_id) {
  if (lease_id != 0) (void)post("/v3/lease/revoke", {{"ID", std::to_string(lease_id)}});
}

Result<Lease> EtcdLockClient::try_acquire(TimeUs ttl_us) {
  REHEARSE_ASSERT(ttl_us > 0);
  std::lock_guard<std::mutex> guard(mutex_);
  const std::int64_t ttl_s = std::max<std::int64_t>(kLeaseTtlMinS, (ttl_us + kSec - 1) / kSec);
  Result<nlohmann::json> granted = post("/v3/lease/grant", {{"TTL", std::to_string(ttl_s)}});
  if (!granted.is_ok()) return granted.status();
  const std::int64_t lease_id = int_field(granted.value(), "ID");
  const std::int64_t granted_s = std::max(int_field(granted.value(), "TTL"), ttl_s);
  if (lease_id == 0) return Status::failed("etcd: the lease grant returned no lease");
  const std::string key = base64_encode(key_);
  const nlohmann::json compare = {{"target", "CREATE"}, {"result", "EQUAL"}, {"key", key}, {"create_revision", "0"}};
  const nlohmann::json put = {{"key", key}, {"value", base64_encode(value_)}, {"lease", std::to_string(lease_id)}};
  const nlohmann::json range = {{"request_range", {{"key", key}}}};
  nlohmann::json txn = nlohmann::json::object();
  txn["compare"] = nlohmann::json::array({compare});
  txn["success"] = nlohmann::json::array({nlohmann::json{{"request_put", put}}, range});
  txn["failure"] = nlohmann::json::array({range});
  Result<nlohmann::json> answer = post("/v3/kv/txn", txn);
  if (!answer.is_ok()) {
    revoke(lease_id);  // a put that did apply goes with its lease
    return answer.status();
  }
  const nlohmann::json kv = ranged_key(answer.value());
  const bool ours = kv.contains("value") && base64_decode(kv.at("value").get<std::string>()) == value_;
  if (!ours) {
    revoke(lease_id);
    return Status::conflict("the lock is held");
  }
  // Ours: this attempt's put, or an earlier one whose answer was lost (then keep its lease).
  const std::int64_t key_lease = int_field(kv, "lease");
  if (key_lease != lease_id) revoke(lease_id);
  lease_id_ = key_lease;
  const std::int64_t token = int_field(kv, "create_revision");
  REHEARSE_ASSERT(token > 0);
  return Lease{token, 0, granted_s * kSec};
}

Status EtcdLockClient::renew(const Lease& lease, TimeUs /*ttl_us*/) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (lease_id_ == 0) return Status::conflict("etcd: no lease is held");
  Result<nlohmann::json> kept = post("/v3/lease/keepalive", {{"ID", std::to_string(lease_id_)}});
  if (!kept.is_ok()) return kept.status();
  const nlohmann::json result = kept.value().value("result", nlohmann::json::object());
  if (int_field(result, "TTL") <= 0) return Status::conflict("etcd: our lease expired");
  Result<nlohmann::json> read = post("/v3/kv/range", {{"key", base64_encode(key_)}});
  if (!read.is_ok()) return read.status();
  const nlohmann::json& kvs = read.value().value("kvs", nlohmann::json::array());
  if (kvs.empty()) return Status::conflict("etcd: the lock key is gone");
  const nlohmann::json& kv = kvs.front();
  const bool ours = base64_decode(kv.value("value", std::string())) == value_ && int_field(kv, "create_revision") == lease.token &&
                    int_field(kv, "lease") == lease_id_;
  return ours ? Status::ok() : Status::conflict("etcd: the lock key is no longer ours");
}

Status EtcdLockClient::release(const Lease& /*lease*/) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (lease_id_ == 0) return Status::ok();
  const std::string key = base64_encode(key_);
  const nlohmann::json compare = {{"target", "LEASE"}, {"result", "EQUAL"}, {"key", key}, {"lease", std::to_string(lease_id_)}};
  nlohmann::json txn = nlohmann::json::object();
  txn["compare"] = nlohmann::json::array({compare});
  txn["success"] = nlohmann::json::array({nlohmann::json{{"request_delete_range", {{"key", key}}}}});
  Result<nlohmann::json> deleted = post("/v3/kv/txn", txn);
  Result<nlohmann::json> revoked = post("/v3/lease/revoke", {{"ID", std::to_string(lease_id_)}});
  if (!deleted.is_ok()) return deleted.status();
  if (!revoked.is_ok() && revoked.status().code() != Status::Code::invalid) return revoked.status();  // invalid: the lease had expired
  lease_id_ = 0;
  return Status::ok();
}

Status EtcdLockClient::ping() {
  std::lock_guard<std::mutex> guard(mutex_);
  Result<nlohmann::json> status = post("/v3/maintenance/status", nlohmann::json::object());
  return status.is_ok() ? Status::ok() : status.status();
}

Result<std::string> EtcdLockClient::holder_value() {
  std::lock_guard<std::mutex> guard(mutex_);
  Result<nlohmann::json> read = post("/v3/kv/range", {{"key", base64_encode(key_)}});
  if (!read.is_ok()) return read.status();
  const nlohmann::json& kvs = read.value().value("kvs", nlohmann::json::array());
  return kvs.empty() ? std::string() : base64_decode(kvs.front().value("value", std::string()));
}

}  // namespace rehearse::live
