// GError -> absl::Status conversion.
#include "core/glib/gst_ptr.h"

#include <gio/gio.h>

#include "absl/strings/str_cat.h"

namespace rtsptest::core {

absl::Status StatusFromGError(absl::string_view context, const GError* error) {
  if (error == nullptr) return absl::UnknownError(absl::StrCat(context, ": unknown error"));
  std::string message = absl::StrCat(context, ": ", error->message);
  if (error->domain == G_IO_ERROR) {
    switch (error->code) {
      case G_IO_ERROR_NOT_FOUND:
        return absl::NotFoundError(message);
      case G_IO_ERROR_ADDRESS_IN_USE:
      case G_IO_ERROR_EXISTS:
        return absl::AlreadyExistsError(message);
      case G_IO_ERROR_PERMISSION_DENIED:
        return absl::PermissionDeniedError(message);
      case G_IO_ERROR_TIMED_OUT:
        return absl::DeadlineExceededError(message);
      case G_IO_ERROR_CANCELLED:
        return absl::CancelledError(message);
      case G_IO_ERROR_INVALID_ARGUMENT:
        return absl::InvalidArgumentError(message);
      default:
        return absl::UnavailableError(message);
    }
  }
  if (error->domain == GST_PARSE_ERROR) return absl::InvalidArgumentError(message);
  if (error->domain == GST_RESOURCE_ERROR) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

}  // namespace rtsptest::core
