#pragma once

// Graphviz in-process: DOT text laid out by `dot` and rendered as SVG through libgvc, loaded on
// first use (see shared_library.h for why it is not linked; libgvc and the thirty libraries it
// pulls in would cost every start of dbinit). The layout and render plugins are loaded from
// Graphviz's plugin folder beside libgvc and handed to the context directly, so neither the `dot`
// program nor the plugin configuration file (`config6a`, written by `dot -c`) is needed.

#include <string>
#include <string_view>

namespace dbinit {

/// `dot` laid out with Graphviz's `dot` layout and rendered as an SVG document. Throws
/// Error{config} when libgvc or its plugins cannot be loaded (naming the Debian package), and
/// Error{failure} with Graphviz's own messages when `dot` does not parse or cannot be laid out.
std::string render_svg(std::string_view dot);

}  // namespace dbinit
