package main

// benchVerbs measure the daemon rather than use it.
func benchVerbs() map[string]verb {
	return map[string]verb{
		"bench": {"load-test the daemon against simulated modems and print its throughput, latency, CPU and memory", runBench},
	}
}
