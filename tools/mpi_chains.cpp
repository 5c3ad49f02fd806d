// MCMC chains on MPI ranks (tools/mpi_chains.h).
#include "tools/mpi_chains.h"

#include "symbolic/infer_mh.h"
#include "tools/mpi_world.h"

#include <chrono>
#include <iostream>
#include <map>

namespace chassis::tools {

namespace {

using namespace symbolic;

void putError(mpi::ByteWriter& w, const Error& e) {
  w.putString(e.loc.file);
  w.put<int32_t>(e.loc.line);
  w.put<int32_t>(e.loc.col);
  w.putString(e.message);
}

Error getError(mpi::ByteReader& r) {
  Error e;
  e.loc.file = r.getString();
  e.loc.line = r.get<int32_t>();
  e.loc.col = r.get<int32_t>();
  e.message = r.getString();
  return e;
}

void putDraws(mpi::ByteWriter& w, const std::vector<std::vector<double>>& draws) {
  w.put<uint64_t>(draws.size());
  for (const auto& d : draws)
    w.putVector(d);
}

std::vector<std::vector<double>> getDraws(mpi::ByteReader& r) {
  std::vector<std::vector<double>> draws(size_t(r.get<uint64_t>()));
  for (auto& d : draws)
    d = r.getVector<double>();
  return draws;
}

void putChain(mpi::ByteWriter& w, const MhChain& c) {
  putDraws(w, c.draws);
  w.put<uint64_t>(c.accepted);
  w.put<uint64_t>(c.proposed);
}

void getChain(mpi::ByteReader& r, MhChain& c) {
  c.draws = getDraws(r);
  c.accepted = r.get<uint64_t>();
  c.proposed = r.get<uint64_t>();
}

void putChain(mpi::ByteWriter& w, const NutsChainResult& c) {
  putDraws(w, c.draws);
  w.putVector(c.drawStats);
  for (double v :
       {c.warmupSeconds, c.samplingSeconds, c.stepSize, c.meanAcceptStat, c.meanTreeDepth})
    w.put<double>(v);
  w.putVector(c.invMetric);
  for (size_t v : {c.divergences, c.leapfrogSteps, c.maxDepthHits})
    w.put<uint64_t>(v);
}

void getChain(mpi::ByteReader& r, NutsChainResult& c) {
  c.draws = getDraws(r);
  c.drawStats = r.getVector<NutsDrawStats>();
  for (double* v :
       {&c.warmupSeconds, &c.samplingSeconds, &c.stepSize, &c.meanAcceptStat, &c.meanTreeDepth})
    *v = r.get<double>();
  c.invMetric = r.getVector<double>();
  for (size_t* v : {&c.divergences, &c.leapfrogSteps, &c.maxDepthHits})
    *v = size_t(r.get<uint64_t>());
}

/// Runs this rank's chains with `runMine(ids)` (a Run with .chains in ids' order); workers send
/// them to rank 0, which returns every chain in order (or the first error: its own, else the
/// lowest rank's).
template <typename Run, typename RunMine> Expected<Run> gather(size_t K, const RunMine& runMine) {
  const int n = mpi::worldSize(), me = mpi::rank();
  std::vector<size_t> mine;
  for (size_t c = size_t(me); c < K; c += size_t(n))
    mine.push_back(c);
  Expected<Run> run = mine.empty() ? Expected<Run>(Run{}) : runMine(mine);
  if (me != 0) {
    mpi::ByteWriter w;
    w.put<uint8_t>(run ? 1 : 0);
    if (!run) {
      putError(w, run.error());
    } else {
      w.put<uint64_t>(mine.size());
      for (size_t k = 0; k < mine.size(); ++k) {
        w.put<uint64_t>(mine[k]);
        putChain(w, run->chains[k]);
      }
    }
    mpi::send(0, mpi::kResult, w.text());
    return Error(""); // reported by rank 0
  }
  using Chain = typename decltype(Run::chains)::value_type;
  std::map<size_t, Chain> all;
  std::optional<Error> failure;
  if (!run)
    failure = run.error();
  else
    for (size_t k = 0; k < mine.size(); ++k)
      all[mine[k]] = std::move(run->chains[k]);
  for (int r = 1; r < n; ++r) {
    mpi::Message m = mpi::receive(r, -1);
    mpi::ByteReader rd(m.payload);
    if (m.tag == mpi::kFinal) { // the worker ended before its chains (a bad file on that host)
      int code = rd.get<int32_t>();
      std::string err = rd.getString();
      mpi::markFinalReceived(r, code, err);
      if (!failure)
        failure = Error("rank " + std::to_string(r) + " stopped before running its chains (exit " +
                        std::to_string(code) + ")" + (err.empty() ? "" : ": " + err));
      continue;
    }
    if (rd.get<uint8_t>() == 0) {
      Error e = getError(rd);
      if (!failure) failure = e;
      continue;
    }
    for (size_t k = size_t(rd.get<uint64_t>()); k > 0; --k) {
      size_t c = size_t(rd.get<uint64_t>());
      getChain(rd, all[c]);
    }
  }
  if (failure) return *failure;
  if (!run) return run.error();
  run->chains.clear();
  for (auto& [c, chain] : all)
    run->chains.push_back(std::move(chain));
  return std::move(*run);
}

} // namespace

std::optional<Expected<Posterior>> inferChainsOnRanks(const ir::Function& f,
                                                      std::span<const Value> inputs,
                                                      const InferOptions& options,
                                                      NutsResult* sampler) {
  if (mpi::worldSize() <= 1) return std::nullopt;
  const bool mcmc = options.method == InferMethod::MH || options.method == InferMethod::NUTS;
  if (!mcmc) {
    if (mpi::rank() == 0)
      std::cerr << "note: --method " << methodName(options.method)
                << " runs on rank 0 alone; mpirun spreads only the chains of mh and nuts\n";
    return mpi::rank() == 0 ? std::nullopt
                            : std::optional<Expected<Posterior>>(Error("not run on a worker"));
  }
  if (options.chains == 0) return std::nullopt; // the engine's own error
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (options.method == InferMethod::MH) {
    auto run = gather<MhRun>(options.chains, [&](const std::vector<size_t>& ids) {
      return runMhChains(f, inputs, options, ids);
    });
    if (!run) return Expected<Posterior>(run.error());
    return mhPosterior(std::move(*run), seconds());
  }
  auto run = gather<NutsResult>(options.chains, [&](const std::vector<size_t>& ids) {
    NutsOptions no = nutsOptionsOf(options);
    no.chainIds = ids;
    return runNuts(f, inputs, no);
  });
  if (!run) return Expected<Posterior>(run.error());
  run->sumChains();
  return nutsPosterior(f, options, std::move(*run), seconds(), sampler);
}

} // namespace chassis::tools
