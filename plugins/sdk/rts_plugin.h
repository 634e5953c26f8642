/*
 * rts_plugin.h - the rtsp-test-server source plugin ABI (pure C).
 *
 * A source plugin is a shared object named lib<name>.so that exports exactly one
 * symbol, RTS_PLUGIN_ENTRY_SYMBOL ("rts_plugin_get_descriptor"). It returns a
 * pointer to a constant descriptor: ABI version, identity, a parameter schema
 * and a create function that builds the GStreamer bin for one stream.
 *
 * The header uses the C standard library only, so that a plugin can be built
 * with any compiler against any GStreamer 1.x. GStreamer objects cross the ABI
 * as `void *` (a GstElement *).
 *
 * Compatibility: the host loads a plugin only when
 *   descriptor->abi_major == RTS_PLUGIN_ABI_MAJOR (of the host) and
 *   descriptor->abi_minor <= RTS_PLUGIN_ABI_MINOR (of the host).
 * Minor versions only append fields (using `reserved`), never reorder them.
 *
 * Ownership, in one place:
 *   - The descriptor and everything it points to (strings, the parameter
 *     array, allowed-value lists) belong to the plugin and must stay valid and
 *     unchanged while the library is loaded. Static storage is the norm.
 *   - rts_stream_context and everything in it belong to the host and are valid
 *     only during the create call. Copy what you keep.
 *   - create returns a new, floating GstElement * (usually a GstBin); the host
 *     takes ownership (gst_object_ref_sink). On failure it returns NULL and
 *     writes a NUL-terminated message into error (at most error_size bytes).
 *
 * Threading: create may be called from any thread, concurrently for different
 * streams. It must not block on network I/O.
 */
#ifndef RTS_PLUGIN_SDK_RTS_PLUGIN_H_
#define RTS_PLUGIN_SDK_RTS_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RTS_PLUGIN_ABI_MAJOR 1
#define RTS_PLUGIN_ABI_MINOR 0

/* The one symbol a plugin exports. */
#define RTS_PLUGIN_ENTRY_SYMBOL "rts_plugin_get_descriptor"

/* Parameter types. Values always reach the plugin as strings that the host has
 * already validated against the schema, so rts_param_* helpers never fail. */
typedef enum rts_param_type {
  RTS_PARAM_TYPE_UNSPECIFIED = 0,
  RTS_PARAM_TYPE_INT = 1,    /* decimal integer in [min, max] */
  RTS_PARAM_TYPE_DOUBLE = 2, /* decimal number in [min, max] */
  RTS_PARAM_TYPE_BOOL = 3,   /* "true" or "false" */
  RTS_PARAM_TYPE_STRING = 4, /* any text */
  RTS_PARAM_TYPE_ENUM = 5    /* one of allowed_values */
} rts_param_type;

/* One entry of a plugin's parameter schema. */
typedef struct rts_param_spec {
  const char* name; /* [a-z][a-z0-9_]*, unique within the plugin */
  rts_param_type type;
  const char* default_value;         /* must itself be valid; NULL = required */
  double min;                        /* INT and DOUBLE: inclusive range; */
  double max;                        /*   min == max == 0 means unbounded */
  const char* const* allowed_values; /* ENUM: NULL-terminated list */
  const char* help;                  /* one line for `--list_plugins` and docs */
} rts_param_spec;

/* A validated parameter: every schema entry is present, defaults filled in. */
typedef struct rts_param {
  const char* name;
  const char* value;
} rts_param;

/* What the host passes to create. Owned by the host (see above). */
typedef struct rts_stream_context {
  const char* stream_path; /* the mount path, e.g. "/cam1" */
  const rts_param* params; /* one per schema entry, in schema order */
  size_t param_count;
  void* reserved[8];
} rts_stream_context;

/* Builds the stream's element: a bin whose payloaders are named pay0..payN,
 * as gst-rtsp-server expects. Returns a floating GstElement * or NULL. */
typedef void* (*rts_create_fn)(const rts_stream_context* context, char* error, size_t error_size);

typedef struct rts_plugin_descriptor {
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* name;        /* must equal <name> in lib<name>.so */
  const char* version;     /* the plugin's own version, free-form */
  const char* description; /* one line */
  const rts_param_spec* params;
  size_t param_count;
  rts_create_fn create;
  void* reserved[8]; /* zero; room for minor versions to grow */
} rts_plugin_descriptor;

typedef const rts_plugin_descriptor* (*rts_plugin_entry_fn)(void);

/* Emits the entry point. Use once per plugin, at file scope:
 *   RTS_PLUGIN_DEFINE("name", "1.0.0", "What it does", kParams, Create)
 * where kParams is a static array of rts_param_spec (or NULL with count 0 via
 * RTS_PLUGIN_DEFINE_NO_PARAMS). */
#if defined(__GNUC__)
#define RTS_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define RTS_PLUGIN_EXPORT
#endif

/* Declared here, inside extern "C", so that the definition emitted by the
 * macros below keeps the C symbol name even in a C++ translation unit. */
RTS_PLUGIN_EXPORT const rts_plugin_descriptor* rts_plugin_get_descriptor(void);

#define RTS_PLUGIN_DEFINE_WITH(name_, version_, description_, params_, count_, create_) \
  RTS_PLUGIN_EXPORT const rts_plugin_descriptor* rts_plugin_get_descriptor(void) {      \
    static const rts_plugin_descriptor descriptor = {RTS_PLUGIN_ABI_MAJOR,              \
                                                     RTS_PLUGIN_ABI_MINOR,              \
                                                     name_,                             \
                                                     version_,                          \
                                                     description_,                      \
                                                     params_,                           \
                                                     count_,                            \
                                                     create_,                           \
                                                     {0}};                              \
    return &descriptor;                                                                 \
  }

#define RTS_PLUGIN_DEFINE(name_, version_, description_, params_, create_) \
  RTS_PLUGIN_DEFINE_WITH(name_, version_, description_, params_,           \
                         sizeof(params_) / sizeof((params_)[0]), create_)

#define RTS_PLUGIN_DEFINE_NO_PARAMS(name_, version_, description_, create_) \
  RTS_PLUGIN_DEFINE_WITH(name_, version_, description_, NULL, 0, create_)

/* Reads a parameter's value by name; NULL if the schema has no such name. */
static inline const char* rts_param_get(const rts_stream_context* context, const char* name) {
  size_t i;
  for (i = 0; i < context->param_count; ++i) {
    if (strcmp(context->params[i].name, name) == 0) return context->params[i].value;
  }
  return NULL;
}

static inline long long rts_param_get_int(const rts_stream_context* context, const char* name) {
  const char* value = rts_param_get(context, name);
  return value ? strtoll(value, NULL, 10) : 0;
}

static inline double rts_param_get_double(const rts_stream_context* context, const char* name) {
  const char* value = rts_param_get(context, name);
  return value ? strtod(value, NULL) : 0.0;
}

static inline int rts_param_get_bool(const rts_stream_context* context, const char* name) {
  const char* value = rts_param_get(context, name);
  return value != NULL && strcmp(value, "true") == 0;
}

/* Writes a formatted error message for the host; safe with error_size 0. */
#define RTS_PLUGIN_ERROR(error, error_size, ...)    \
  do {                                              \
    if ((error) != NULL && (error_size) > 0) {      \
      snprintf((error), (error_size), __VA_ARGS__); \
    }                                               \
  } while (0)

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RTS_PLUGIN_SDK_RTS_PLUGIN_H_ */
