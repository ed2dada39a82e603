//go:build !unix

package scimapi

import "time"

func processCPU() time.Duration { return 0 }
