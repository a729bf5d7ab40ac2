// Entry point: `rapport-bench` subcommands, driven by `bench/ingest`.
import ArgumentParser

RapportBench.main()
