-- Plain GETs of one URL, reported by report.lua.
done = dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua").done
