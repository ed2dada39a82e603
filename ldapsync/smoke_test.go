package ldapsync_test

import (
	"context"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

func TestSmoke(t *testing.T) {
	_, facts, c := startSample(t, adsim.Options{})
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{PageSize: 5})
	info, err := d.ServerInfo(context.Background())
	t.Logf("%+v %v", info, err)
	users := collect(t, d, bridge.Scope{BaseDN: sampleBase}, bridge.EntryUser)
	t.Logf("users %d want %d", len(users), facts.Users)
	for _, u := range users[:2] {
		t.Logf("%+v", u)
	}
	groups := collect(t, d, bridge.Scope{BaseDN: sampleBase}, bridge.EntryGroup)
	for _, g := range groups {
		t.Logf("%s %x %d", g.DN, g.GroupType, len(g.Members))
	}
	cnt, err := d.Count(context.Background(), bridge.Scope{BaseDN: sampleBase, DistributionLists: true})
	t.Logf("%+v %v", cnt, err)
	tree, err := d.OUTree(context.Background(), sampleBase)
	t.Logf("%+v %v", tree, err)
}
