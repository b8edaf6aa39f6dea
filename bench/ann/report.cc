// JSON and markdown renderings of a run, and the target checks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ann/results.h"
#include "index/hnsw_index.h"

namespace ksdb::bench {
namespace {

constexpr double kRecallTarget = 0.95;
constexpr double kQpsRatioTarget = 1.5;
constexpr double kBuildRatioTarget = 1.2;
constexpr double kParallelTarget = 1.7;
constexpr double kMemoryFactor = 1.15;
constexpr double kInt8Factor = 0.5;

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Finite numbers as JSON numbers; NaN/inf (no measurement) as null.
std::string JsonNumber(double v) {
  if (!std::isfinite(v))
    return "null";
  return Fmt("%.6g", v);
}

std::string PointsJson(const std::vector<EfPoint>& points) {
  std::string out = "[";
  for (size_t i = 0; i < points.size(); ++i) {
    const EfPoint& p = points[i];
    out += i ? "," : "";
    out += std::string("{\"ef\":") + std::to_string(p.ef) +
           ",\"recall_at_10\":" + JsonNumber(p.recall) + ",\"qps\":" + JsonNumber(p.qps) +
           ",\"pass_qps\":[";
    for (size_t j = 0; j < p.pass_qps.size(); ++j) {
      out += j ? "," : "";
      out += JsonNumber(p.pass_qps[j]);
    }
    out += "]}";
  }
  return out + "]";
}

std::string LibraryJson(const LibraryResult& l) {
  return "{\"name\":" + JsonString(l.name) + ",\"details\":" + JsonString(l.details) +
         ",\"error\":" + JsonString(l.error) +
         ",\"build_threads\":" + std::to_string(l.build_threads) +
         ",\"build_seconds\":" + JsonNumber(l.build_seconds) +
         ",\"build_vectors_per_s\":" + JsonNumber(l.build_vectors_per_s) +
         ",\"memory_bytes\":" + std::to_string(l.memory_bytes) +
         ",\"memory_per_vector\":" + JsonNumber(l.memory_per_vector) +
         ",\"memory_method\":" + JsonString(l.memory_method) +
         ",\"rss_delta_per_vector\":" + JsonNumber(l.rss_delta_per_vector) +
         ",\"search\":" + PointsJson(l.points) + "}";
}

double MemoryTarget(const DatasetResult& d) {
  return kMemoryFactor * (4.0 * static_cast<double>(d.dim) + 8.0 * static_cast<double>(d.m));
}

double Ratio(double a, double b) {
  return b > 0 ? a / b : NAN;
}

const char* Verdict(bool ok) {
  return ok ? "PASS" : "FAIL";
}

// One "| target | measured | verdict |" row.
std::string Row(const std::string& target, const std::string& measured, const char* verdict) {
  return "| " + target + " | " + measured + " | " + verdict + " |\n";
}

// The qps ratio at each library's smallest ef reaching the recall target.
std::string QpsTarget(const DatasetResult& d) {
  const LibraryResult* k = FindLibrary(d, "ksdb");
  const LibraryResult* h = FindLibrary(d, "hnswlib");
  const std::string target = "ksdb qps >= 1.5x hnswlib at recall@10 >= 0.95";
  if (k == nullptr || h == nullptr)
    return Row(target, "ksdb or hnswlib not run", "n/a");
  const EfPoint* kp = FirstReaching(k->points, kRecallTarget);
  const EfPoint* hp = FirstReaching(h->points, kRecallTarget);
  if (kp == nullptr || hp == nullptr) {
    return Row(target, std::string(kp == nullptr ? "ksdb" : "hnswlib") + " never reaches 0.95",
               kp == nullptr ? "FAIL" : "n/a");
  }
  const double ratio = Ratio(kp->qps, hp->qps);
  return Row(target,
             "ksdb " + Fmt("%.0f", kp->qps) + " q/s (ef " + std::to_string(kp->ef) + ", recall " +
                 Fmt("%.3f", kp->recall) + ") vs hnswlib " + Fmt("%.0f", hp->qps) + " q/s (ef " +
                 std::to_string(hp->ef) + ", recall " + Fmt("%.3f", hp->recall) +
                 "): " + Fmt("%.2fx", ratio),
             Verdict(ratio >= kQpsRatioTarget));
}

// Build speed ratio; "equal or better recall" = ksdb's recall at the ef where
// hnswlib first reaches the target is at least hnswlib's there.
std::string BuildTarget(const DatasetResult& d) {
  const LibraryResult* k = FindLibrary(d, "ksdb");
  const LibraryResult* h = FindLibrary(d, "hnswlib");
  const std::string target = "ksdb build vectors/s >= 1.2x hnswlib at equal or better recall";
  if (k == nullptr || h == nullptr)
    return Row(target, "ksdb or hnswlib not run", "n/a");
  const double ratio = Ratio(k->build_vectors_per_s, h->build_vectors_per_s);
  std::string recall_note = "no common ef";
  bool recall_ok = false;
  const EfPoint* hp = FirstReaching(h->points, kRecallTarget);
  if (hp == nullptr && !h->points.empty())
    hp = &h->points.back();
  for (const EfPoint& p : k->points) {
    if (hp != nullptr && p.ef == hp->ef) {
      recall_ok = p.recall + 1e-9 >= hp->recall;
      recall_note = "recall at ef " + std::to_string(p.ef) + ": ksdb " + Fmt("%.3f", p.recall) +
                    " vs hnswlib " + Fmt("%.3f", hp->recall);
    }
  }
  return Row(target,
             Fmt("%.0f", k->build_vectors_per_s) + " vs " + Fmt("%.0f", h->build_vectors_per_s) +
                 " vectors/s: " + Fmt("%.2fx", ratio) + "; " + recall_note,
             Verdict(ratio >= kBuildRatioTarget && recall_ok));
}

std::string ParallelTarget(const DatasetResult& d) {
  const std::string target = "ksdb 2-thread build >= 1.7x 1-thread";
  if (!d.parallel_build)
    return Row(target, "not run", "n/a");
  const ParallelBuild& p = *d.parallel_build;
  return Row(target,
             std::to_string(p.threads) + " threads " + Fmt("%.0f", p.vectors_per_s) +
                 " vectors/s: " + Fmt("%.2fx", p.speedup),
             Verdict(p.speedup >= kParallelTarget));
}

// The engine's choice per filtered query (src/db/collection.cc): a scan of the
// matching ids (HnswIndex::SearchAllowed: exact or sketch scan, by
// index::PickAllowedScan) when index::PreferExactScan says so, else the filtered
// graph search. kPolicyEf is the ef_search the engine would pass (Chroma's
// default configuration).
constexpr size_t kPolicyEf = 100;

struct PolicyPoint {
  bool exact = false;  // a list scan (SearchAllowed), not the graph
  std::string scan;    // which list scan: "exact" or "sketch"
  double recall = 0;
  double qps = 0;
  size_t ef = 0;
};

// What the engine would deliver at this selectivity: the exact scan, or the
// filtered graph at its smallest ef reaching the recall target (best recall
// when none does).
std::optional<PolicyPoint> EnginePolicy(const DatasetResult& d, const FilteredResult& f) {
  if (index::PreferExactScan(f.allowed, d.num_base, kPolicyEf, d.dim)) {
    if (std::isnan(f.ksdb_engine_qps))
      return std::nullopt;
    return PolicyPoint{true, f.ksdb_engine_scan, f.ksdb_engine_recall, f.ksdb_engine_qps, 0};
  }
  for (const FilteredLibrary& l : f.libraries) {
    if (l.name != "ksdb" || l.points.empty()) continue;
    if (const EfPoint* p = FirstReaching(l.points, kRecallTarget))
      return PolicyPoint{false, "", p->recall, p->qps, p->ef};
    const EfPoint* best = &l.points.front();
    for (const EfPoint& p : l.points)
      if (p.recall > best->recall) best = &p;
    return PolicyPoint{false, "", best->recall, best->qps, best->ef};
  }
  return std::nullopt;
}

// Filtered recall at every selectivity and qps at 1% versus unfiltered, as
// the engine answers them (exact scan or filtered graph, see EnginePolicy).
std::string FilteredTargets(const DatasetResult& d) {
  const LibraryResult* k = FindLibrary(d, "ksdb");
  std::string out;
  if (d.filtered.empty() || k == nullptr)
    return Row("filtered recall >= 0.95 at every selectivity", "not run", "n/a");
  bool all_ok = true;
  std::string measured;
  std::optional<PolicyPoint> one_percent;
  for (const FilteredResult& f : d.filtered) {
    const std::optional<PolicyPoint> p = EnginePolicy(d, f);
    for (const FilteredLibrary& l : f.libraries)
      if (l.name == "ksdb") all_ok = all_ok && l.violations == 0;
    if (!p) {
      all_ok = false;
      measured += Fmt("%g%%: not run; ", f.selectivity * 100);
      continue;
    }
    if (std::fabs(f.selectivity - 0.01) < 1e-9) one_percent = p;
    all_ok = all_ok && p->recall >= kRecallTarget;
    measured +=
        Fmt("%g%%: ", f.selectivity * 100) + Fmt("%.3f", p->recall) +
        (p->exact ? " (" + p->scan + " scan)" : " (graph, ef " + std::to_string(p->ef) + ")") +
        "; ";
  }
  out += Row("ksdb filtered recall@10 >= 0.95 at every selectivity (engine policy)", measured,
             Verdict(all_ok));
  const std::string qps_target =
      "ksdb qps at 1% selectivity >= unfiltered (engine policy; unfiltered at recall >= 0.95)";
  const EfPoint* unfiltered = FirstReaching(k->points, kRecallTarget);
  if (unfiltered == nullptr || !one_percent) {
    out += Row(qps_target, "1% or unfiltered never reaches 0.95 (or 1% not run)", "FAIL");
  } else {
    out += Row(qps_target,
               Fmt("%.0f", one_percent->qps) + " q/s (" +
                   (one_percent->exact ? one_percent->scan + " scan"
                                       : "graph ef " + std::to_string(one_percent->ef)) +
                   ") vs " + Fmt("%.0f", unfiltered->qps) + " q/s (ef " +
                   std::to_string(unfiltered->ef) + ")",
               Verdict(one_percent->qps >= unfiltered->qps));
  }
  return out;
}

std::string MemoryTargets(const DatasetResult& d) {
  const LibraryResult* k = FindLibrary(d, "ksdb");
  const LibraryResult* q = FindLibrary(d, "ksdb-int8");
  const double target = MemoryTarget(d);
  std::string out;
  if (k == nullptr)
    return Row("memory per vector", "ksdb not run", "n/a");
  out += Row("ksdb memory/vector <= 1.15 x (4*dim + 8*M) = " + Fmt("%.0f", target) + " B",
             Fmt("%.0f B", k->memory_per_vector), Verdict(k->memory_per_vector <= target));
  if (q == nullptr)
    return out + Row("int8 memory/vector <= 0.5x float32", "int8 not run", "n/a");
  const EfPoint* qp = FirstReaching(q->points, kRecallTarget);
  const bool ok = qp != nullptr && q->memory_per_vector <= kInt8Factor * k->memory_per_vector;
  out += Row("ksdb-int8 memory/vector <= 0.5x ksdb float32 (" +
                 Fmt("%.0f B", kInt8Factor * k->memory_per_vector) + ") at recall >= 0.95",
             Fmt("%.0f B", q->memory_per_vector) + " (" +
                 Fmt("%.2fx", Ratio(q->memory_per_vector, k->memory_per_vector)) + " of float32, " +
                 Fmt("%.2fx", Ratio(q->memory_per_vector, target)) + " of the 1.15x figure); " +
                 (qp ? "recall 0.95 at ef " + std::to_string(qp->ef) : "never reaches 0.95"),
             Verdict(ok));
  return out;
}

// Exact-scan qps used for the crossover: ksdb's own SearchAmong when measured
// (what the engine would run), else the bench's brute-force loop.
double ExactQps(const FilteredResult& f) {
  return std::isfinite(f.ksdb_exact_qps) ? f.ksdb_exact_qps : f.brute_force_qps;
}

// The crossover: the selectivity below which exact search over the allowed
// ids beats filtered HNSW (HNSW taken at its smallest ef reaching the recall
// target; an HNSW that never reaches it loses), interpolated in log space.
std::string Crossover(const DatasetResult& d) {
  struct Sample {
    double s;
    double ratio;  // brute qps / hnsw qps; inf when HNSW never reaches the target
  };
  std::vector<Sample> samples;
  for (const FilteredResult& f : d.filtered) {
    for (const FilteredLibrary& l : f.libraries) {
      if (l.name != "ksdb")
        continue;
      const EfPoint* p = FirstReaching(l.points, kRecallTarget);
      const double exact = ExactQps(f);
      samples.push_back({f.selectivity, p ? Ratio(exact, p->qps) : INFINITY});
    }
  }
  if (samples.empty())
    return "crossover: not measured\n";
  std::sort(samples.begin(), samples.end(),
            [](const Sample& a, const Sample& b) { return a.s > b.s; });
  if (samples.front().ratio >= 1)
    return "**crossover: brute force wins already at " + Fmt("%g%%", samples.front().s * 100) +
           " selectivity (the highest measured)**\n";
  for (size_t i = 1; i < samples.size(); ++i) {
    const Sample& hi = samples[i - 1];
    const Sample& lo = samples[i];
    if (lo.ratio < 1)
      continue;
    double s = lo.s;
    if (std::isfinite(lo.ratio)) {
      // log(ratio) is ~linear in log(selectivity): brute force cost ~ s.
      const double t = std::log(hi.ratio) / (std::log(hi.ratio) - std::log(lo.ratio));
      s = std::exp(std::log(hi.s) + t * (std::log(lo.s) - std::log(hi.s)));
    }
    return std::string(std::isfinite(d.filtered.front().ksdb_exact_qps)
                           ? "(exact side: ksdb SearchAmong) "
                           : "(exact side: the bench's brute-force loop) ") +
           "**crossover estimate: use exact brute force over the allowed ids below ~" +
           Fmt("%.3g%%", s * 100) + " selectivity (between " + Fmt("%g%%", lo.s * 100) + " and " +
           Fmt("%g%%", hi.s * 100) + ")**\n";
  }
  return "**crossover: filtered HNSW wins down to " + Fmt("%g%%", samples.back().s * 100) +
         " selectivity (the lowest measured)**\n";
}

std::string SearchTable(const DatasetResult& d) {
  std::string out = "| library | ef | recall@10 | queries/s |\n|---|---|---|---|\n";
  for (const LibraryResult& l : d.libraries) {
    for (const EfPoint& p : l.points) {
      out += "| " + l.name + " | " + std::to_string(p.ef) + " | " + Fmt("%.4f", p.recall) + " | " +
             Fmt("%.0f", p.qps) + " |\n";
    }
  }
  return out;
}

std::string BuildTable(const DatasetResult& d) {
  std::string out =
      "| library | build threads | build s | vectors/s | memory B/vector | RSS delta B/vector |\n"
      "|---|---|---|---|---|---|\n";
  for (const LibraryResult& l : d.libraries) {
    if (!l.error.empty()) {
      out += "| " + l.name + " | error: " + l.error + " | | | | |\n";
      continue;
    }
    out += "| " + l.name + " | " + std::to_string(l.build_threads) + " | " +
           Fmt("%.1f", l.build_seconds) + " | " + Fmt("%.0f", l.build_vectors_per_s) + " | " +
           Fmt("%.0f", l.memory_per_vector) + " | " + Fmt("%.0f", l.rss_delta_per_vector) + " |\n";
  }
  if (d.parallel_build) {
    const ParallelBuild& p = *d.parallel_build;
    out += "| ksdb | " + std::to_string(p.threads) + " | " + Fmt("%.1f", p.seconds) + " | " +
           Fmt("%.0f", p.vectors_per_s) + " | (" + Fmt("%.2fx", p.speedup) + " of 1 thread) | |\n";
  }
  out += "\nTarget memory figure 1.15 x (4*dim + 8*M) = " + Fmt("%.0f", MemoryTarget(d)) +
         " B/vector. Memory methods:\n";
  for (const LibraryResult& l : d.libraries) {
    if (l.error.empty())
      out += "- " + l.name + ": " + l.memory_method + "\n";
  }
  return out;
}

std::string RatioTable(const DatasetResult& d) {
  const LibraryResult* k = FindLibrary(d, "ksdb");
  const LibraryResult* h = FindLibrary(d, "hnswlib");
  if (k == nullptr || h == nullptr)
    return {};
  std::string out = "ksdb / hnswlib at equal ef: build " +
                    Fmt("%.2fx", Ratio(k->build_vectors_per_s, h->build_vectors_per_s)) +
                    ", memory " + Fmt("%.2fx", Ratio(k->memory_per_vector, h->memory_per_vector)) +
                    "\n\n| ef | recall ksdb | recall hnswlib | qps ratio |\n|---|---|---|---|\n";
  for (const EfPoint& kp : k->points) {
    for (const EfPoint& hp : h->points) {
      if (kp.ef == hp.ef) {
        out += "| " + std::to_string(kp.ef) + " | " + Fmt("%.4f", kp.recall) + " | " +
               Fmt("%.4f", hp.recall) + " | " + Fmt("%.2fx", Ratio(kp.qps, hp.qps)) + " |\n";
      }
    }
  }
  return out;
}

std::string FilteredTable(const DatasetResult& d) {
  if (d.filtered.empty())
    return {};
  std::string out =
      "| selectivity | allowed | library | ef | recall@10 | queries/s |\n"
      "|---|---|---|---|---|---|\n";
  std::string notes;
  for (const FilteredResult& f : d.filtered) {
    const std::string sel = Fmt("%g%%", f.selectivity * 100);
    out += "| " + sel + " | " + std::to_string(f.allowed) +
           " | brute force (exact) | - | 1.0000 | " + Fmt("%.0f", f.brute_force_qps) + " |\n";
    if (std::isfinite(f.ksdb_exact_qps)) {
      out += "| " + sel + " | " + std::to_string(f.allowed) + " | ksdb SearchAmong (exact) | - | " +
             Fmt("%.4f", f.ksdb_exact_recall) + " | " + Fmt("%.0f", f.ksdb_exact_qps) + " |\n";
    }
    if (std::isfinite(f.ksdb_engine_qps)) {
      out += "| " + sel + " | " + std::to_string(f.allowed) + " | ksdb SearchAllowed (" +
             f.ksdb_engine_scan + " scan) | - | " + Fmt("%.4f", f.ksdb_engine_recall) + " | " +
             Fmt("%.0f", f.ksdb_engine_qps) + " |\n";
    }
    for (const FilteredLibrary& l : f.libraries) {
      if (!l.supported) {
        notes += "- " + l.name + " at " + sel + ": " + l.note + "\n";
        continue;
      }
      if (l.violations > 0) {
        notes += "- " + l.name + " at " + sel + ": " + std::to_string(l.violations) +
                 " answers outside the allowed set\n";
      }
      for (const EfPoint& p : l.points) {
        out += "| " + sel + " | " + std::to_string(f.allowed) + " | " + l.name + " | " +
               std::to_string(p.ef) + " | " + Fmt("%.4f", p.recall) + " | " + Fmt("%.0f", p.qps) +
               " |\n";
      }
    }
  }
  return out + (notes.empty() ? "" : "\n" + notes);
}

}  // namespace

const EfPoint* FirstReaching(const std::vector<EfPoint>& points, double target) {
  const EfPoint* best = nullptr;
  for (const EfPoint& p : points) {
    if (p.recall >= target && (best == nullptr || p.ef < best->ef))
      best = &p;
  }
  return best;
}

const LibraryResult* FindLibrary(const DatasetResult& d, const std::string& name) {
  for (const LibraryResult& l : d.libraries) {
    if (l.name == name && l.error.empty())
      return &l;
  }
  return nullptr;
}

std::string ToJson(const RunInfo& run, const std::vector<DatasetResult>& datasets) {
  std::string out =
      "{\"run\":{\"command_line\":" + JsonString(run.command_line) +
      ",\"started_utc\":" + JsonString(run.started_utc) + ",\"cpu\":" + JsonString(run.cpu) +
      ",\"simd_level\":" + JsonString(run.simd_level) +
      ",\"hardware_threads\":" + std::to_string(run.hardware_threads) +
      ",\"passes\":" + std::to_string(run.passes) + ",\"k\":" + std::to_string(run.k) +
      ",\"ef_construction\":" + std::to_string(run.ef_construction) + "},\"datasets\":[";
  for (size_t i = 0; i < datasets.size(); ++i) {
    const DatasetResult& d = datasets[i];
    out += i ? "," : "";
    out += std::string("{\"name\":") + JsonString(d.name) + ",\"space\":" + JsonString(d.space) +
           ",\"num_base\":" + std::to_string(d.num_base) +
           ",\"num_queries\":" + std::to_string(d.num_queries) +
           ",\"dim\":" + std::to_string(d.dim) + ",\"m\":" + std::to_string(d.m) +
           ",\"memory_target_per_vector\":" + JsonNumber(MemoryTarget(d)) + ",\"libraries\":[";
    for (size_t j = 0; j < d.libraries.size(); ++j) {
      out += j ? "," : "";
      out += LibraryJson(d.libraries[j]);
    }
    out += "],\"parallel_build\":";
    if (d.parallel_build) {
      const ParallelBuild& p = *d.parallel_build;
      out += "{\"threads\":" + std::to_string(p.threads) + ",\"seconds\":" + JsonNumber(p.seconds) +
             ",\"vectors_per_s\":" + JsonNumber(p.vectors_per_s) +
             ",\"speedup\":" + JsonNumber(p.speedup) + ",\"search\":" + PointsJson(p.points) + "}";
    } else {
      out += "null";
    }
    out += ",\"filtered\":[";
    for (size_t j = 0; j < d.filtered.size(); ++j) {
      const FilteredResult& f = d.filtered[j];
      out += j ? "," : "";
      out += std::string("{\"selectivity\":") + JsonNumber(f.selectivity) +
             ",\"allowed\":" + std::to_string(f.allowed) +
             ",\"brute_force_qps\":" + JsonNumber(f.brute_force_qps) +
             ",\"ksdb_exact_qps\":" + JsonNumber(f.ksdb_exact_qps) +
             ",\"ksdb_exact_recall\":" + JsonNumber(f.ksdb_exact_recall) +
             ",\"ksdb_engine_qps\":" + JsonNumber(f.ksdb_engine_qps) +
             ",\"ksdb_engine_recall\":" + JsonNumber(f.ksdb_engine_recall) +
             ",\"ksdb_engine_scan\":\"" + f.ksdb_engine_scan + "\"" + ",\"libraries\":[";
      for (size_t l = 0; l < f.libraries.size(); ++l) {
        const FilteredLibrary& fl = f.libraries[l];
        out += l ? "," : "";
        out += std::string("{\"name\":") + JsonString(fl.name) +
               ",\"supported\":" + (fl.supported ? "true" : "false") +
               ",\"note\":" + JsonString(fl.note) +
               ",\"violations\":" + std::to_string(fl.violations) +
               ",\"search\":" + PointsJson(fl.points) + "}";
      }
      out += "]}";
    }
    out += "]}";
  }
  return out + "]}\n";
}

std::string ToMarkdown(const RunInfo& run, const std::vector<DatasetResult>& datasets) {
  std::ostringstream out;
  out << "# ksdb ANN benchmark\n\n"
      << "Started " << run.started_utc << " on " << run.cpu << " (" << run.hardware_threads
      << " hardware threads, ksdb SIMD level " << run.simd_level << "). k=10, M per dataset, "
      << "ef_construction=" << run.ef_construction << ", one thread unless stated, queries one at "
      << "a time, queries/s = median of " << run.passes << " passes.\n\n"
      << "Command: `" << run.command_line << "`\n";
  std::string summary;
  for (const DatasetResult& d : datasets) {
    out << "\n## " << d.name << " (" << d.num_base << " x " << d.dim << ", " << d.space << ", "
        << d.num_queries << " queries)\n\n### Search\n\n"
        << SearchTable(d) << "\n### Build and memory\n\n"
        << BuildTable(d) << "\n";
    const std::string ratios = RatioTable(d);
    if (!ratios.empty())
      out << "### ksdb / hnswlib\n\n" << ratios << "\n";
    if (d.parallel_build) {
      out << "Parallel-build graph (one pass each): ";
      for (const EfPoint& p : d.parallel_build->points)
        out << "ef " << p.ef << " recall " << Fmt("%.4f", p.recall) << "; ";
      out << "\n\n";
    }
    if (!d.filtered.empty()) {
      out << "### Filtered queries\n\n" << FilteredTable(d) << "\n" << Crossover(d) << "\n";
    }
    summary += "\n### " + d.name + "\n\n| target | measured | verdict |\n|---|---|---|\n" +
               QpsTarget(d) + BuildTarget(d) + ParallelTarget(d) + FilteredTargets(d) +
               MemoryTargets(d);
  }
  out << "\n## Targets (issue 3)\n\nThe issue states them for glove at recall@10 >= 0.95; they are "
         "checked here for every dataset run.\n"
      << summary;
  return out.str();
}

}  // namespace ksdb::bench
