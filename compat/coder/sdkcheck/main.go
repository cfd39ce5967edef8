// sdkcheck drives Coder's own Go SDK (codersdk, at the version go.mod pins) against a running taskd
// and prints one JSON line per check: {"name", "ok", "detail"}. The accounts and templates it uses
// are made by the caller (taskd's templates are not Coder's Terraform) and given as JSON on stdin.
// It exits 0 whenever it could run; what failed is in the lines, for the caller to judge.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/coder/coder/v2/codersdk"
)

type account struct {
	Token    string    `json:"token"`
	Username string    `json:"username"`
	ID       uuid.UUID `json:"id"`
}

type template struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	VersionID   uuid.UUID `json:"version_id"`
	VersionName string    `json:"version_name"`
	PresetID    uuid.UUID `json:"preset_id"`
	PresetName  string    `json:"preset_name"`
}

// config is what the caller prepared: a site owner and a plain member of one organization, an AI
// template whose tasks really run (its app answers and reports idle), an AI template whose tasks
// stay initializing (no agent ever connects), and a template version without an AI task.
type config struct {
	URL              string    `json:"url"`
	Owner            account   `json:"owner"`
	Member           account   `json:"member"`
	OrganizationID   uuid.UUID `json:"organization_id"`
	OrganizationName string    `json:"organization_name"`
	Running          template  `json:"running_template"`
	Stuck            template  `json:"stuck_template"`
	PlainVersionID   uuid.UUID `json:"plain_version_id"`
	WaitSeconds      int       `json:"wait_seconds"`
}

func main() {
	var cfg config
	if err := json.NewDecoder(os.Stdin).Decode(&cfg); err != nil {
		fmt.Fprintf(os.Stderr, "sdkcheck: reading the JSON config on stdin: %v\n", err)
		os.Exit(2)
	}
	base, err := url.Parse(cfg.URL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdkcheck: url: %v\n", err)
		os.Exit(2)
	}
	if cfg.WaitSeconds <= 0 {
		cfg.WaitSeconds = 60
	}
	rec := &recorder{base: http.DefaultTransport}
	client := func(token string) *codersdk.Client {
		return codersdk.New(base, codersdk.WithSessionToken(token), codersdk.WithHTTPClient(&http.Client{Transport: rec}))
	}
	r := &runner{
		ctx:    context.Background(),
		cfg:    cfg,
		owner:  client(cfg.Owner.Token),
		member: client(cfg.Member.Token),
		anon:   client(""),
		rec:    rec,
		fields: newFieldLog(),
		out:    json.NewEncoder(os.Stdout),
		wait:   time.Duration(cfg.WaitSeconds) * time.Second,
	}
	r.identity()
	r.templates()
	tasks := r.create()
	r.reads(tasks)
	r.lists(tasks)
	r.interact(tasks)
	r.lifecycle(tasks)
	r.workspaces(tasks)
	r.access(tasks)
	r.remove(tasks)
	r.reportFields()
}
