//go:build unix

package db

import (
	"errors"
	"syscall"
)

// processGone reports whether no process with this pid exists on this
// host (a signal-0 probe answers ESRCH). EPERM means it exists.
func processGone(pid int) bool {
	return pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
