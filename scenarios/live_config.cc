// Parsing of live configs: the endpoint keys are read from the parsed document and taken out of
// it, `topology:` is built from the regions' nodes (so their lines stay), and the document goes
// through the ordinary scenario loader. Nothing is pasted into YAML text: a region name that
// holds YAML syntax or a newline stays one string, checked as a region name.
#include "scenarios/live_config.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "scenarios/limits.h"
#include "scenarios/yaml_input.h"

namespace rehearse {

namespace {

struct Parsed {
  LiveConfig config;
  std::vector<ScenarioError> errors;
  std::string file;
  int fallback_line = 1;
  void error(const YAML::Node& node, const std::string& key, const std::string& message) {
    const int line = node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : fallback_line;
    errors.push_back(ScenarioError{file, line, key, message});
  }
};

// What a node holds, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return "'" + (node.Scalar().size() > 60 ? node.Scalar().substr(0, 57) + "..." : node.Scalar()) + "'";
  return "nothing";
}

// A non-empty string, or nullopt after reporting what it is instead.
std::optional<std::string> text(Parsed& parsed, const YAML::Node& node, const std::string& key, const char* expected) {
  if (node.IsScalar() && !node.Scalar().empty()) return node.Scalar();
  parsed.error(node, key, fmt::format("expected {}, got {}", expected, describe(node)));
  return std::nullopt;
}

// Reads one region; returns its `{name, replicas: N}` entry of the scenario's topology, or an
// undefined node when the region is unusable (its problems are reported).
// Whether the config's topology is global, and its home region ("" when per region).
struct Writers {
  bool global = false;
  std::string home;
  bool has_primary(const std::string& region) const { return !global || home.empty() || region == home; }
};

YAML::Node read_region(Parsed& parsed, const YAML::Node& item, std::size_t index, const Writers& writers,
                       std::set<std::string>* names) {
  const std::string path = fmt::format("regions[{}]", index);
  if (!item.IsMap()) {
    parsed.error(item, path, "expected a mapping {name, primary, replicas}, got " + describe(item));
    return YAML::Node(YAML::NodeType::Undefined);
  }
  LiveRegionConfig region;
  YAML::Node name_node;
  bool has_name = false;
  bool ok = true;
  for (const auto& entry : item) {
    if (!entry.first.IsScalar()) {
      parsed.error(entry.first, path, "keys must be plain names, got " + describe(entry.first));
      ok = false;
      continue;
    }
    const std::string key = entry.first.Scalar();
    const YAML::Node& value = entry.second;
    if (key == "name") {
      name_node = value;
      has_name = true;
      const auto name = text(parsed, value, path + ".name", "a region name");
      if (name) region.name = *name;
      ok = name.has_value() && ok;
    } else if (key == "primary") {
      const auto primary = text(parsed, value, path + ".primary", "a libpq connection string");
      if (primary) region.primary = *primary;
      ok = primary.has_value() && ok;
    } else if (key == "replicas") {
      if (!value.IsSequence() && !value.IsNull()) {
        parsed.error(value, path + ".replicas", "expected a list of libpq connection strings, got " + describe(value));
        ok = false;
        continue;
      }
      std::size_t i = 0;
      for (const auto& replica : value) {
        const auto connection = text(parsed, replica, fmt::format("{}.replicas[{}]", path, i++), "a libpq connection string");
        if (connection) region.replicas.push_back(*connection);
        ok = connection.has_value() && ok;
      }
    } else {
      parsed.error(entry.first, path + "." + key, "unknown key (expected name, primary, replicas)");
      ok = false;
    }
  }
  if (!has_name) parsed.error(item, path + ".name", "required key missing"), ok = false;
  // A primary missing or one too many is reported, and the region stays in the topology (the
  // loader then judges the rest, a global topology's home among it, without a made-up error).
  if (!region.name.empty() && !writers.has_primary(region.name) && item["primary"]) {
    parsed.error(item["primary"], path + ".primary",
                 fmt::format("topology.mode is global: db:{} (the home region's) is the only primary, and region {} reads "
                             "replicas of it; list them under replicas: and remove primary:",
                             writers.home, region.name));
  } else if (!item["primary"] && (region.name.empty() || writers.has_primary(region.name))) {
    parsed.error(item, path + ".primary", "required key missing");
    ok = ok && !region.name.empty();
  }
  if (!region.name.empty()) {
    if (const std::string problem = region_name_problem(region.name); !problem.empty()) {
      parsed.error(name_node, path + ".name", problem);
      ok = false;
    } else if (!names->insert(region.name).second) {
      parsed.error(name_node, path + ".name", fmt::format("region '{}' is listed twice", region.name));
      ok = false;
    }
  }
  if (!ok) return YAML::Node(YAML::NodeType::Undefined);
  YAML::Node entry(YAML::NodeType::Map);
  entry["name"] = name_node;  // the file's node: the loader's messages keep its line
  entry["replicas"] = region.replicas.size();
  parsed.config.regions.push_back(std::move(region));
  return entry;
}

// A live config's `topology` holds only `mode` and `home` (the regions' endpoints are under
// `regions:`); returns the node to make the scenario's `topology` of (the file's own, so the
// loader's messages keep its lines) and says in *writers whether it is global and its home.
YAML::Node read_topology(Parsed& parsed, const YAML::Node& root, Writers* writers) {
  YAML::Node given = root["topology"];
  if (!given) return YAML::Node(YAML::NodeType::Map);
  if (!given.IsMap()) {
    parsed.error(given, "topology", "expected a mapping {mode, home} (a live config names its endpoints under regions:), got " +
                                        describe(given));
    return YAML::Node(YAML::NodeType::Map);
  }
  for (const auto& entry : given) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : describe(entry.first);
    if (key != "mode" && key != "home") {
      parsed.error(entry.first, "topology." + key,
                   "unknown key in a live config (expected mode, home): the regions, their primaries and replicas are under "
                   "regions:, and latency, replication lag and clocks are the real servers'");
    }
  }
  const YAML::Node mode = given["mode"];
  writers->global = mode && mode.IsScalar() && mode.Scalar() == "global";
  const YAML::Node home = given["home"];
  const YAML::Node regions = root["regions"];
  if (home && home.IsScalar()) {
    writers->home = home.Scalar();
  } else if (regions && regions.IsSequence() && regions.size() > 0 && regions[0].IsMap() && regions[0]["name"] &&
             regions[0]["name"].IsScalar()) {
    writers->home = regions[0]["name"].Scalar();  // the loader's default: the first region
  }
  // A home that names no region is the loader's to report; the primaries are not judged by it.
  bool known = false;
  for (std::size_t i = 0; regions && regions.IsSequence() && i < regions.size(); ++i) {
    known = known || (regions[i].IsMap() && regions[i]["name"] && regions[i]["name"].IsScalar() &&
                      regions[i]["name"].Scalar() == writers->home);
  }
  if (!known) writers->home.clear();
  return given;  // the file's node (its lines kept for the loader's messages); regions are added to it
}

// Reads `regions` into the config and adds them to the scenario's `topology` node.
void read_regions(Parsed& parsed, const YAML::Node& root, const Writers& writers, YAML::Node& topology) {
  YAML::Node topology_regions(YAML::NodeType::Sequence);
  const YAML::Node regions = root["regions"];
  if (!regions) {
    parsed.error(root, "regions", "required key missing");
  } else if (!regions.IsSequence() || regions.size() == 0) {
    parsed.error(regions, "regions", "expected a non-empty list of regions, got " + describe(regions));
  } else if (regions.size() > static_cast<std::size_t>(kMaxRegions)) {
    parsed.error(regions, "regions",
                 fmt::format("{} regions is above the limit of {}", regions.size(), kMaxRegions));
  } else {
    std::set<std::string> names;
    for (std::size_t i = 0; i < regions.size(); ++i) {
      YAML::Node entry = read_region(parsed, regions[i], i, writers, &names);
      if (entry.IsDefined()) topology_regions.push_back(entry);
    }
  }
  if (topology_regions.size() > 0) topology["regions"] = topology_regions;
}

// Reads `lock.endpoints` into the config and takes it out of the document.
// app-database: the lock is a row in the lock region's primary, so there are none, and endpoints
// given anyway are an error (an operator who lists a Redis there believes the lock is in it).
void read_lock_endpoints(Parsed& parsed, YAML::Node& root) {
  YAML::Node lock = root["lock"];
  const bool app_database = lock && lock.IsMap() && lock["backend"] && lock["backend"].IsScalar() &&
                            lock["backend"].Scalar() == "app-database";
  if (app_database) {
    if (lock["endpoints"]) {
      parsed.error(lock["endpoints"], "lock.endpoints",
                   "the app-database lock is a row in the lock region's primary (lock.region, default the first region); "
                   "it takes no endpoints: remove lock.endpoints, or choose another lock.backend");
      lock.remove("endpoints");
    }
    return;
  }
  if (!lock || !lock.IsMap() || !lock["endpoints"]) {
    parsed.error(lock ? lock : root, "lock.endpoints", "required: a non-empty list of HOST:PORT");
    return;
  }
  const YAML::Node endpoints = lock["endpoints"];
  if (!endpoints.IsSequence() || endpoints.size() == 0) {
    parsed.error(endpoints, "lock.endpoints", "expected a non-empty list of HOST:PORT, got " + describe(endpoints));
  } else {
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      const auto endpoint = text(parsed, endpoints[i], fmt::format("lock.endpoints[{}]", i), "HOST:PORT");
      if (endpoint) parsed.config.lock_endpoints.push_back(*endpoint);
    }
  }
  lock.remove("endpoints");
}

// The simulated twin of a live config (rehearse conform, a report's proposed fix) has as many
// lock nodes as the config names servers: a Redlock of three masters, an etcd or ZooKeeper
// ensemble of three members. A `nodes:` that says otherwise is refused.
void lock_nodes_from_endpoints(Parsed& parsed, YAML::Node& root) {
  YAML::Node lock = root["lock"];
  if (!lock || !lock.IsMap() || !lock["backend"] || !lock["backend"].IsScalar() || parsed.config.lock_endpoints.empty()) return;
  const std::string backend = lock["backend"].Scalar();
  if (backend != "redlock" && backend != "etcd" && backend != "zookeeper") return;
  const std::size_t servers = parsed.config.lock_endpoints.size();
  if (!lock["nodes"]) {
    lock["nodes"] = servers;
    return;
  }
  const YAML::Node nodes = lock["nodes"];
  if (nodes.IsScalar() && nodes.Scalar() != std::to_string(servers)) {
    parsed.error(nodes, "lock.nodes",
                 fmt::format("{} (the number of lock.endpoints) or absent in a live config, got {}", servers, nodes.Scalar()));
  }
}

bool by_line(const ScenarioError& a, const ScenarioError& b) { return a.line < b.line; }

}  // namespace

LiveConfigResult load_live_config_text(const std::string& text, const std::string& file_name) {
  LiveConfigResult result;
  const YamlDocuments parsed_yaml = parse_yaml(text);
  if (parsed_yaml.error) {
    result.errors.push_back(ScenarioError{file_name, parsed_yaml.error->line, "", parsed_yaml.error->describe()});
    return result;
  }
  if (parsed_yaml.documents.size() != 1 || !parsed_yaml.documents.front().IsMap()) {
    const std::string problem = parsed_yaml.documents.size() > 1 ? "more than one YAML document; a live config holds one"
                                                                 : "expected a mapping at the top level";
    result.errors.push_back(ScenarioError{file_name, 1, "", problem});
    return result;
  }
  YAML::Node root = parsed_yaml.documents.front();
  Parsed parsed;
  parsed.file = file_name;
  parsed.fallback_line = root.Mark().line >= 0 ? root.Mark().line + 1 : 1;
  Writers writers;
  YAML::Node topology = read_topology(parsed, root, &writers);
  read_regions(parsed, root, writers, topology);
  read_lock_endpoints(parsed, root);
  lock_nodes_from_endpoints(parsed, root);
  // The scenario document: the file's own nodes (their lines kept), `regions` replaced by the
  // topology built above.
  root.remove("regions");
  root.remove("topology");
  root["topology"] = topology;
  LoadResult loaded = load_scenario_node(root, file_name);
  if (loaded.errors_not_shown > 0) loaded.errors.pop_back();  // its count; counted again below
  result.errors = parsed.errors;
  result.errors.insert(result.errors.end(), loaded.errors.begin(), loaded.errors.end());
  std::stable_sort(result.errors.begin(), result.errors.end(), by_line);
  std::size_t not_shown = loaded.errors_not_shown;
  if (result.errors.size() > kMaxErrorsShown) {
    not_shown += result.errors.size() - kMaxErrorsShown;
    result.errors.resize(kMaxErrorsShown);
  }
  if (not_shown > 0) result.errors.push_back(more_errors(file_name, not_shown));
  if (!result.errors.empty() || !loaded.ok()) return result;
  parsed.config.scenario = *loaded.scenario;
  result.config = parsed.config;
  return result;
}

LiveConfigResult load_live_config_file(const std::string& path) {
  std::string problem;
  const std::optional<std::string> text = read_yaml_file(path, &problem);
  if (!text) {
    LiveConfigResult result;
    result.errors.push_back(ScenarioError{path, 0, "", problem});
    return result;
  }
  return load_live_config_text(*text, path);
}

}  // namespace rehearse
