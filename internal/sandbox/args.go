package sandbox

import (
	"fmt"
	"strconv"
	"strings"
)

// ExitFlag makes the sandbox exit once the replay is done instead of
// serving the dashboard until Ctrl-C (for tests and scripts). ExitEnv is
// the same as an environment variable. The service's configuration does
// not know either: SplitArgs takes the flag out before config.Load sees
// the command line.
const (
	ExitFlag = "sandbox-exit"
	ExitEnv  = "SANDBOX_EXIT"
)

// SplitArgs removes -sandbox-exit (or -sandbox-exit=BOOL, with one or two
// dashes) from args, before any "--", and reports whether the sandbox
// should exit after its replay: the flag when given, else ExitEnv.
func SplitArgs(args []string, getenv func(string) string) (rest []string, exit bool, err error) {
	set := false
	if getenv != nil {
		if v := strings.TrimSpace(getenv(ExitEnv)); v != "" {
			if exit, err = strconv.ParseBool(v); err != nil {
				return args, false, fmt.Errorf("%s: must be true or false", ExitEnv)
			}
		}
	}
	rest = make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || name != ExitFlag {
			rest = append(rest, a)
			continue
		}
		if set {
			return args, false, fmt.Errorf("-%s given twice", ExitFlag)
		}
		set, exit = true, true
		if hasValue {
			if exit, err = strconv.ParseBool(value); err != nil {
				return args, false, fmt.Errorf("-%s: must be true or false", ExitFlag)
			}
		}
	}
	return rest, exit, nil
}
