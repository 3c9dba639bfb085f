package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/rs/zerolog"
)

// startProfiles starts the CPU profile --cpuprofile asks for; the returned
// function stops it and writes the --memprofile allocation profile. They
// profile the server alone, in its own process, which no in-process
// benchmark can (its clients share the profile).
func startProfiles(f *serveFlags) (func(zerolog.Logger), error) {
	var cpu *os.File
	if f.cpuProfile != "" {
		var err error
		if cpu, err = os.Create(f.cpuProfile); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	return func(log zerolog.Logger) {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if f.memProfile == "" {
			return
		}
		if err := writeHeapProfile(f.memProfile); err != nil {
			log.Error().Err(err).Msg("--memprofile")
		}
	}, nil
}

func writeHeapProfile(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // up-to-date statistics
	if err := pprof.Lookup("allocs").WriteTo(out, 0); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
