// Command doppler is the engine's command line: inspect, convert and synth
// model files, tokenize, and run the model on the CPU reference or on WebGPU.
//
// Each subcommand lives in its own file and registers itself in init(), so
// features land without touching this file. Contract: ../shared/DESIGN.md.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	// run parses args with fs (already holding --json) and does the work.
	// Return a usageError for bad usage (exit 2), any other error for exit 1.
	run func(fs *flag.FlagSet, args []string, out *output) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// output carries the --json choice and the streams.
type output struct {
	JSON   bool
	Stdout io.Writer
	Stderr io.Writer
}

// Emit prints v as one JSON object when --json is set, else calls human.
func (o *output) Emit(v any, human func(w io.Writer)) error {
	if o.JSON {
		enc := json.NewEncoder(o.Stdout)
		return enc.Encode(v)
	}
	human(o.Stdout)
	return nil
}

func main() { os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr)) }

func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "doppler: unknown command %q\n", args[0])
		printUsage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("doppler "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := &output{Stdout: stdout, Stderr: stderr}
	fs.BoolVar(&out.JSON, "json", false, "print one JSON object on stdout")
	err := c.run(fs, args[1:], out)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	// A run delegated to the wasm engine already printed its own message.
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "doppler %s: %v\n", c.name, err)
		return 2
	}
	fmt.Fprintf(stderr, "doppler %s: %v\n", c.name, err)
	return 1
}

// parseFlags parses flags that may be interleaved with positional arguments
// ("inspect MODEL --json" and "inspect --json MODEL" both work).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: doppler COMMAND [flags]   (doppler COMMAND -h for a command's flags)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}
