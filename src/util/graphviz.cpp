#include "util/graphviz.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "util/error.h"
#include "util/shared_library.h"

namespace dbinit {

namespace {

constexpr std::string_view k_package = "libgvc6";

// clang-format off
#define DBINIT_GVC_FUNCTIONS(X) \
  X(agclose) \
  X(agerrors) \
  X(agmemread) \
  X(agreseterrors) \
  X(agseterr) \
  X(agseterrf) \
  X(gvContextPlugins) \
  X(gvFreeContext) \
  X(gvFreeLayout) \
  X(gvFreeRenderData) \
  X(gvLayout) \
  X(gvRenderData)
// clang-format on

struct Gvc {
#define DBINIT_DECLARE(name) decltype(&::name) name = nullptr;
  DBINIT_GVC_FUNCTIONS(DBINIT_DECLARE)
#undef DBINIT_DECLARE
  // The plugins that `dot -Tsvg` would find through config6a: the dot layout, and the core
  // renderers (svg among them), terminated by an empty entry as gvContextPlugins() expects.
  lt_symlist_t plugins[3] = {};
};

// The library structure `symbol` of plugin `file` in Graphviz's plugin folder beside libgvc.
void* plugin_library(const std::string& folder, const char* file, const char* symbol) {
  const std::string path = folder + "/" + file;
  static std::vector<std::unique_ptr<SharedLibrary>> loaded;
  loaded.push_back(std::make_unique<SharedLibrary>(std::initializer_list<const char*>{path.c_str()},
                                                   "rendering SVG", k_package));
  return loaded.back()->symbol(symbol);
}

const Gvc& gvc() {
  static const Gvc api = [] {
    static const SharedLibrary library({"libgvc.so.6"}, "rendering SVG", k_package);
    Gvc loaded;
#define DBINIT_LOAD(name) library.load(loaded.name, #name);
    DBINIT_GVC_FUNCTIONS(DBINIT_LOAD)
#undef DBINIT_LOAD
    std::string folder = library.directory();
    folder += "/graphviz";
    loaded.plugins[0] = {
        "gvplugin_dot_layout_LTX_library",
        plugin_library(folder, "libgvplugin_dot_layout.so.6", "gvplugin_dot_layout_LTX_library")};
    loaded.plugins[1] = {
        "gvplugin_core_LTX_library",
        plugin_library(folder, "libgvplugin_core.so.6", "gvplugin_core_LTX_library")};
    return loaded;
  }();
  return api;
}

// What Graphviz reports while one render runs (it calls back through agseterrf()).
std::string g_messages;

int collect_message(char* text) {
  g_messages += text;
  return 0;
}

Error graphviz_error(std::string_view what) {
  Error error(ErrorKind::failure, fmt::format("Graphviz could not {}", what));
  std::string detail = g_messages;
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  error.detail = detail;
  return error;
}

}  // namespace

std::string render_svg(std::string_view dot) {
  const Gvc& api = gvc();
  // Graphviz keeps its error state in globals: one render at a time.
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  g_messages.clear();
  api.agseterrf(collect_message);
  api.agseterr(AGWARN);
  api.agreseterrors();

  GVC_t* context = api.gvContextPlugins(api.plugins, 0);
  if (context == nullptr) throw graphviz_error("start");
  const std::string text(dot);
  Agraph_t* graph = api.agmemread(text.c_str());
  if (graph == nullptr) {
    api.gvFreeContext(context);
    throw graphviz_error("read the diagram");
  }
  std::string svg;
  bool ok = api.gvLayout(context, graph, "dot") == 0;
  if (ok) {
    char* data = nullptr;
    unsigned int length = 0;
    ok = api.gvRenderData(context, graph, "svg", &data, &length) == 0 && data != nullptr;
    if (ok) svg.assign(data, length);
    if (data != nullptr) api.gvFreeRenderData(data);
    api.gvFreeLayout(context, graph);
  }
  api.agclose(graph);
  api.gvFreeContext(context);
  if (!ok) throw graphviz_error("lay out and render the diagram");
  // An error Graphviz recovers from (an HTML label it cannot parse is drawn as the node's name)
  // still makes a wrong picture.
  if (api.agerrors() >= AGERR) throw graphviz_error("render every part of the diagram");
  return svg;
}

}  // namespace dbinit
