package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// failStream ends a run whose read failed after it had begun to stream
// users into the store (plan_stream.go): it waits for the writes under
// way, keeps what was committed, and says so in the run's error. readErr
// is the read's error, or nil when readOK has already ended the run.
func (s *syncRun) failStream(ctx context.Context, dir Directory, k *sink, readErr error) {
	if readErr != nil && errors.Is(readErr, errSinkFailed) {
		// A write failed, not the read: that is the run's error.
		msg := k.finish(ctx)
		s.run.Counts = k.counts
		s.end(ctx, RunFailed, msg)
		return
	}
	if readErr != nil {
		s.readOK(ctx, dir, readErr) // ends the run with the read's error
	}
	if k.err == "" {
		k.err = s.run.Error // finish skips every phase after the batches already handed over
	}
	if msg := k.finish(ctx); msg != k.err {
		s.run.Error += " (" + msg + ")"
	}
	s.run.Counts = k.counts
	if k.written > 0 {
		s.run.Error = strings.Replace(s.run.Error, "nothing was changed",
			fmt.Sprintf("the %s users planned before it were written; nothing was deleted", thousands(k.written)), 1)
	}
}

// streamed is how many users the read planned while it ran.
func (b *planBuilder) streamed() int {
	if b.stream == nil {
		return 0
	}
	return b.stream.planned
}
