// Command hello is the runner's own test program: it echoes its arguments
// and an environment variable, writes to both streams, and exits with the
// code given as its first argument, or never exits when that is "hang".
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	fmt.Printf("args=%q\n", os.Args[1:])
	fmt.Printf("env=%s\n", os.Getenv("DOPPLER_BROWSERTEST_PROBE"))
	fmt.Fprintln(os.Stderr, "to stderr")
	if os.Args[1] == "hang" {
		for {
			time.Sleep(time.Second)
		}
	}
	code, _ := strconv.Atoi(os.Args[1])
	os.Exit(code)
}
