// Loads TensorFlow's two libraries (libtensorflow_framework.so.2, then libtensorflow_cc.so.2) with file
// descriptor 2 pointed at a file, so the lines their static initialisers print before any logging settings
// apply (TensorFlow ≥ 2.16 logs "oneDNN custom operations are on" through absl at load time, whatever
// TF_CPP_MIN_LOG_LEVEL says) land there instead of in the user's stderr. src/backend/tensorflow.ts calls it
// before requiring tfjs-node, whose addon then finds both libraries already loaded, and replays every line
// that is not INFO. Built by scripts/build-tensorflow.mjs into tfjs-node's deps/ folder.
//
//   load(libraries: string[], capture: string): string | undefined   (undefined, or dlerror()'s message)
//   loadOptional(library: string): string | undefined   (the same for a library that may be missing or broken:
//                                                        our ops, loaded after TensorFlow's; never throws)
//
// Once per process: worker threads that set up the backend after the main thread find it done (file descriptor 2
// is the whole process's, so two redirections at once would leave it pointing at a file).
#include <dlfcn.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdio.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

namespace {

std::mutex load_mutex;
bool loaded = false;

bool GetString(napi_env env, napi_value v, std::string* out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return false;
  std::vector<char> buf(len + 1);
  if (napi_get_value_string_utf8(env, v, buf.data(), buf.size(), &len) != napi_ok) return false;
  out->assign(buf.data(), len);
  return true;
}

napi_value Fail(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

napi_value Load(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 2) {
    return Fail(env, "load(libraries: string[], capture: string)");
  }
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[0], &n) != napi_ok) {
    return Fail(env, "libraries must be an array of paths");
  }
  std::vector<std::string> libraries(n);
  for (uint32_t i = 0; i < n; ++i) {
    napi_value element;
    if (napi_get_element(env, argv[0], i, &element) != napi_ok || !GetString(env, element, &libraries[i])) {
      return Fail(env, "libraries must be an array of paths");
    }
  }
  std::string capture;
  if (!GetString(env, argv[1], &capture)) return Fail(env, "capture must be a path");

  std::lock_guard<std::mutex> lock(load_mutex);
  napi_value result;
  if (loaded) {
    napi_get_undefined(env, &result);
    return result;
  }
  fflush(stderr);
  const int saved = dup(2);
  const int fd = open(capture.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (saved < 0 || fd < 0) {
    if (saved >= 0) close(saved);
    return Fail(env, "cannot redirect stderr to the capture file");
  }
  dup2(fd, 2);
  close(fd);
  std::string error;
  for (const std::string& lib : libraries) {
    if (dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      const char* e = dlerror();
      error = e ? e : ("cannot load " + lib);
      break;
    }
  }
  fflush(stderr);
  dup2(saved, 2);
  close(saved);

  loaded = error.empty();
  if (error.empty()) {
    napi_get_undefined(env, &result);
  } else {
    napi_create_string_utf8(env, error.c_str(), error.size(), &result);
  }
  return result;
}

napi_value LoadOptional(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  std::string library;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 1 ||
      !GetString(env, argv[0], &library)) {
    const char* usage = "loadOptional(library: string)";
    napi_create_string_utf8(env, usage, NAPI_AUTO_LENGTH, &result);
    return result;
  }
  std::lock_guard<std::mutex> lock(load_mutex);
  if (dlopen(library.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) {
    napi_get_undefined(env, &result);
  } else {
    const char* e = dlerror();
    const std::string error = e ? e : ("cannot load " + library);
    napi_create_string_utf8(env, error.c_str(), error.size(), &result);
  }
  return result;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "load", NAPI_AUTO_LENGTH, Load, nullptr, &fn);
  napi_set_named_property(env, exports, "load", fn);
  napi_create_function(env, "loadOptional", NAPI_AUTO_LENGTH, LoadOptional, nullptr, &fn);
  napi_set_named_property(env, exports, "loadOptional", fn);
  return exports;
}
