// Command labseed writes the Samba AD lab seed as LDIF to stdout.
//
//	go run ./internal/labseed/cmd/labseed --base-dn DC=lab,DC=scimbridge,DC=test --users 5200 > seed.ldif
//	go run ./internal/labseed/cmd/labseed --users 5200 --summary   # counts and special DNs, as JSON
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/scimbridge/scimbridge/internal/labseed"
)

func main() {
	baseDN := flag.String("base-dn", labseed.DefaultBaseDN, "base DN of the lab domain")
	users := flag.Int("users", labseed.DefaultUsers, "number of regular users")
	summary := flag.Bool("summary", false, "print the expectation (counts, special DNs) as JSON instead of LDIF")
	flag.Parse()
	if *users < 0 {
		fmt.Fprintln(os.Stderr, "labseed: --users must be >= 0")
		os.Exit(2)
	}
	seed := labseed.New(*baseDN, *users)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	var err error
	if *summary {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(seed.Expected())
	} else {
		err = seed.WriteLDIF(w)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "labseed:", err)
		os.Exit(1)
	}
}
