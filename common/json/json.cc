// DumpJson and ParseJson: see json.h.
#include "common/json/json.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rtsptest::common {
namespace {

// The library's own text for a leaf (string, integer, boolean, null).
// `replace` instead of the default `strict`: strict throws on invalid UTF-8,
// and a log line or a body must never fail over a client's bytes.
void AppendLeaf(std::string* out, const Json& leaf) {
  out->append(
      leaf.dump(/*indent=*/-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace));
}

void AppendFloat(std::string* out, double value, JsonFloatStyle floats) {
  if (!std::isfinite(value)) {
    out->append("null");
  } else if (floats.significant) {
    absl::StrAppendFormat(out, "%.*g", floats.digits, value);
  } else {
    absl::StrAppendFormat(out, "%.*f", floats.digits, value);
  }
}

void Append(std::string* out, const Json& value, JsonFloatStyle floats) {
  switch (value.type()) {
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first) out->push_back(',');
        first = false;
        AppendLeaf(out, Json(key));
        out->push_back(':');
        Append(out, member, floats);
      }
      out->push_back('}');
      break;
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& element : value) {
        if (!first) out->push_back(',');
        first = false;
        Append(out, element, floats);
      }
      out->push_back(']');
      break;
    }
    case Json::value_t::number_float:
      AppendFloat(out, value.get<double>(), floats);
      break;
    default:
      AppendLeaf(out, value);
  }
}

}  // namespace

std::string DumpJson(const Json& value, JsonFloatStyle floats) {
  std::string out;
  Append(&out, value, floats);
  return out;
}

absl::StatusOr<Json> ParseJson(absl::string_view text) {
  // Without exceptions the library reports malformed text as a discarded
  // value (this project does not use exceptions).
  Json value = Json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not JSON: \"", text.substr(0, 80), text.size() > 80 ? "...\"" : "\""));
  }
  return value;
}

}  // namespace rtsptest::common
