#include "db/embedding_registry.h"

#include <simdjson.h>

namespace ksdb::db {
namespace {

struct Selection {
  std::string name;   // empty: not a ksdb-* selection
  std::string model;  // empty: any model of that provider
};

Result<Selection> ParseSelection(std::string_view function_json) {
  Selection selection;
  if (function_json.empty())
    return selection;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(function_json.data(), function_json.size()).get(root) != simdjson::SUCCESS) {
    return selection;  // stored opaquely by the server; not ours to judge
  }
  std::string_view type, name;
  if (root["type"].get_string().get(type) != simdjson::SUCCESS || type != "known" ||
      root["name"].get_string().get(name) != simdjson::SUCCESS || !name.starts_with("ksdb-")) {
    return selection;
  }
  if (name != kStaticEmbedderName && name != kOpenAiEmbedderName) {
    return Status::InvalidArgument("Unknown embedding function '" + std::string(name) +
                                   "': ksdb provides " + kStaticEmbedderName + " and " +
                                   kOpenAiEmbedderName);
  }
  selection.name = std::string(name);
  simdjson::dom::element model;
  if (root["config"]["model"].get(model) == simdjson::SUCCESS && !model.is_null()) {
    std::string_view text;
    if (model.get_string().get(text) != simdjson::SUCCESS) {
      return Status::InvalidArgument("embedding_function.config.model must be a string");
    }
    selection.model = std::string(text);
  }
  return selection;
}

std::string Configured(const std::vector<std::unique_ptr<embed::Embedder>>& embedders) {
  if (embedders.empty())
    return "none";
  std::string list;
  for (const auto& embedder : embedders) {
    if (!list.empty())
      list += ", ";
    list += embedder->name() + " (model " + embedder->model() + ")";
  }
  return list;
}

}  // namespace

void EmbedderRegistry::Add(std::unique_ptr<embed::Embedder> embedder) {
  embedders_.push_back(std::move(embedder));
}

bool EmbedderRegistry::NamesKsdbEmbedder(std::string_view function_json) {
  Result<Selection> selection = ParseSelection(function_json);
  return selection.ok() && !selection->name.empty();
}

Result<const embed::Embedder*> EmbedderRegistry::Select(std::string_view function_json) const {
  KSDB_ASSIGN_OR_RETURN(Selection selection, ParseSelection(function_json));
  if (selection.name.empty()) {
    return embedders_.empty() ? nullptr : embedders_.front().get();
  }
  for (const auto& embedder : embedders_) {
    if (embedder->name() == selection.name &&
        (selection.model.empty() || embedder->model() == selection.model)) {
      return embedder.get();
    }
  }
  std::string wanted = selection.name;
  if (!selection.model.empty())
    wanted += " with model " + selection.model;
  return Status::InvalidArgument(
      "The collection's embedding function " + wanted +
      " is not configured on this server (configured: " + Configured(embedders_) +
      "); start ksdb with --embedder, or send embeddings");
}

}  // namespace ksdb::db
