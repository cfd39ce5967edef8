// Who the caller is, the templates a task is made from, and task creation with every refusal
// Coder's create handler has.
package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/coder/coder/v2/codersdk"
)

// taskSet holds the tasks the checks share; a task whose create failed keeps a zero ID and the
// checks that need it fail with that reason instead of calling the API with nonsense.
type taskSet struct {
	a         codersdk.Task // the owner's, on the running template: it goes active, is paused and resumed
	generated codersdk.Task // the owner's, named by the server
	preset    codersdk.Task // the owner's, from a preset
	stuck     codersdk.Task // the owner's, on the stuck template: stays initializing
	member    codersdk.Task // the member's, on the stuck template
}

func need(tasks ...codersdk.Task) error {
	for _, t := range tasks {
		if t.ID == uuid.Nil {
			return fmt.Errorf("a task this check needs was not created")
		}
	}
	return nil
}

func (r *runner) identity() {
	owner := r.cfg.Owner
	checkCall(r, "BuildInfo", func() (codersdk.BuildInfoResponse, error) { return r.owner.BuildInfo(r.ctx) },
		func(info codersdk.BuildInfoResponse) error { return want(info.Version != "", "empty version") })
	checkCall(r, "User me", func() (codersdk.User, error) { return r.owner.User(r.ctx, codersdk.Me) },
		func(u codersdk.User) error {
			return want(u.ID == owner.ID && u.Username == owner.Username, "got %s %q, want the owner %s %q", u.ID, u.Username, owner.ID, owner.Username)
		})
	checkCall(r, "OrganizationByName", func() (codersdk.Organization, error) {
		return r.owner.OrganizationByName(r.ctx, r.cfg.OrganizationName)
	},
		func(o codersdk.Organization) error {
			return want(o.ID == r.cfg.OrganizationID, "got %s, want %s", o.ID, r.cfg.OrganizationID)
		})
	checkCall(r, "OrganizationsByUser me", func() ([]codersdk.Organization, error) { return r.owner.OrganizationsByUser(r.ctx, codersdk.Me) },
		func(orgs []codersdk.Organization) error {
			return want(slices.ContainsFunc(orgs, func(o codersdk.Organization) bool { return o.ID == r.cfg.OrganizationID }),
				"the organization %s is not among %d", r.cfg.OrganizationID, len(orgs))
		})
}

func (r *runner) templates() {
	tpl := r.cfg.Running
	isRunning := func(t codersdk.Template) error {
		return want(t.ID == tpl.ID && t.Name == tpl.Name && t.ActiveVersionID == tpl.VersionID,
			"got %s %q active %s, want %s %q active %s", t.ID, t.Name, t.ActiveVersionID, tpl.ID, tpl.Name, tpl.VersionID)
	}
	isVersion := func(v codersdk.TemplateVersion) error {
		return want(v.ID == tpl.VersionID && v.Name == tpl.VersionName && v.TemplateID != nil && *v.TemplateID == tpl.ID,
			"got %s %q of %v, want %s %q of %s", v.ID, v.Name, v.TemplateID, tpl.VersionID, tpl.VersionName, tpl.ID)
	}
	checkCall(r, "Template by id", func() (codersdk.Template, error) { return r.owner.Template(r.ctx, tpl.ID) }, isRunning)
	checkCall(r, "TemplateByName", func() (codersdk.Template, error) {
		return r.owner.TemplateByName(r.ctx, r.cfg.OrganizationID, tpl.Name)
	}, isRunning)
	checkCall(r, "Templates has-ai-task:true",
		func() ([]codersdk.Template, error) {
			return r.owner.Templates(r.ctx, codersdk.TemplateFilter{SearchQuery: "has-ai-task:true", OrganizationID: r.cfg.OrganizationID})
		},
		func(ts []codersdk.Template) error {
			names := map[string]bool{}
			for _, t := range ts {
				names[t.Name] = true
			}
			return want(len(ts) == 2 && names[tpl.Name] && names[r.cfg.Stuck.Name],
				"got %v, want exactly the two AI templates %q and %q", names, tpl.Name, r.cfg.Stuck.Name)
		})
	checkCall(r, "TemplateVersion by id", func() (codersdk.TemplateVersion, error) { return r.owner.TemplateVersion(r.ctx, tpl.VersionID) }, isVersion)
	checkCall(r, "TemplateVersionByOrganizationAndName",
		func() (codersdk.TemplateVersion, error) {
			return r.owner.TemplateVersionByOrganizationAndName(r.ctx, r.cfg.OrganizationID, tpl.Name, tpl.VersionName)
		}, isVersion)
	checkCall(r, "TemplateVersionsByTemplate",
		func() ([]codersdk.TemplateVersion, error) {
			return r.owner.TemplateVersionsByTemplate(r.ctx, codersdk.TemplateVersionsByTemplateRequest{TemplateID: tpl.ID})
		},
		func(vs []codersdk.TemplateVersion) error {
			if len(vs) != 1 {
				return fmt.Errorf("got %d versions, want the one version %s", len(vs), tpl.VersionID)
			}
			return isVersion(vs[0])
		})
	checkCall(r, "TemplateVersionPresets", func() ([]codersdk.Preset, error) { return r.owner.TemplateVersionPresets(r.ctx, tpl.VersionID) },
		func(ps []codersdk.Preset) error {
			return want(slices.ContainsFunc(ps, func(p codersdk.Preset) bool { return p.ID == tpl.PresetID && p.Name == tpl.PresetName }),
				"preset %s %q not among %+v", tpl.PresetID, tpl.PresetName, ps)
		})
}

func (r *runner) create() *taskSet {
	ts := &taskSet{}
	run, stuck := r.cfg.Running, r.cfg.Stuck
	r.check("CreateTask named", func() error {
		t, err := r.owner.CreateTask(r.ctx, codersdk.Me, codersdk.CreateTaskRequest{
			TemplateVersionID: run.VersionID, Input: "Write a haiku about durable workflows", Name: "sdk-a", DisplayName: "SDK task A",
		})
		if err != nil {
			return err
		}
		r.observe(t)
		ts.a = t
		switch {
		case t.Name != "sdk-a" || t.DisplayName != "SDK task A" || t.InitialPrompt != "Write a haiku about durable workflows":
			return fmt.Errorf("name/display name/prompt %q/%q/%q", t.Name, t.DisplayName, t.InitialPrompt)
		case t.OwnerID != r.cfg.Owner.ID || t.OwnerName != r.cfg.Owner.Username || t.OrganizationID != r.cfg.OrganizationID:
			return fmt.Errorf("owner %s %q org %s", t.OwnerID, t.OwnerName, t.OrganizationID)
		case t.TemplateID != run.ID || t.TemplateVersionID != run.VersionID || t.TemplateName != run.Name:
			return fmt.Errorf("template %s version %s name %q", t.TemplateID, t.TemplateVersionID, t.TemplateName)
		case !t.WorkspaceID.Valid || t.WorkspaceName != "sdk-a":
			return fmt.Errorf("workspace %v %q: Coder names the workspace after the task", t.WorkspaceID, t.WorkspaceName)
		case t.Status != codersdk.TaskStatusPending && t.Status != codersdk.TaskStatusInitializing:
			return fmt.Errorf("status %s right after create", t.Status)
		}
		return nil
	})
	r.check("CreateTask by username with a generated name", func() error {
		t, err := r.owner.CreateTask(r.ctx, r.cfg.Owner.Username, codersdk.CreateTaskRequest{TemplateVersionID: run.VersionID, Input: "Fix the flaky login test"})
		if err != nil {
			return err
		}
		ts.generated = t
		if codersdk.NameValid(t.Name) != nil || !strings.HasPrefix(t.Name, "fix-the-flaky-login-test-") || t.DisplayName != "Fix the flaky login test" {
			return fmt.Errorf("generated name %q display name %q", t.Name, t.DisplayName)
		}
		return nil
	})
	r.check("CreateTask with a preset", func() error {
		t, err := r.owner.CreateTask(r.ctx, codersdk.Me, codersdk.CreateTaskRequest{
			TemplateVersionID: run.VersionID, TemplateVersionPresetID: run.PresetID, Input: "Use the preset", Name: "sdk-preset",
		})
		ts.preset = t
		return err
	})
	r.check("CreateTask on a template whose agent never connects", func() error {
		t, err := r.owner.CreateTask(r.ctx, codersdk.Me, codersdk.CreateTaskRequest{TemplateVersionID: stuck.VersionID, Input: "Wait forever", Name: "sdk-stuck"})
		ts.stuck = t
		return err
	})
	r.check("CreateTask by a member", func() error {
		t, err := r.member.CreateTask(r.ctx, codersdk.Me, codersdk.CreateTaskRequest{TemplateVersionID: stuck.VersionID, Input: "Member work", Name: "sdk-member"})
		ts.member = t
		return err
	})
	r.createRefusals()
	return ts
}

func (r *runner) createRefusals() {
	run := r.cfg.Running.VersionID
	create := func(c *codersdk.Client, user string, req codersdk.CreateTaskRequest) error {
		_, err := c.CreateTask(r.ctx, user, req)
		return err
	}
	r.check("CreateTask refuses an unknown template version", func() error {
		return wantError(create(r.owner, codersdk.Me, codersdk.CreateTaskRequest{TemplateVersionID: uuid.New(), Input: "x"}),
			400, "Template version not found or you do not have access to this resource")
	})
	r.check("CreateTask refuses a template version without an AI task", func() error {
		return wantError(create(r.owner, codersdk.Me, codersdk.CreateTaskRequest{TemplateVersionID: r.cfg.PlainVersionID, Input: "x"}),
			400, `Template does not have a valid "coder_ai_task" resource.`)
	})
	for _, name := range []string{"bad_name", "new", "-dash", strings.Repeat("n", 33)} {
		r.check(fmt.Sprintf("CreateTask refuses the name %.12q", name), func() error {
			return wantError(create(r.owner, codersdk.Me, codersdk.CreateTaskRequest{TemplateVersionID: run, Input: "x", Name: name}),
				400, "Unable to create a Task with the provided name.")
		})
	}
	r.check("CreateTask refuses a display name over 64 bytes", func() error {
		return wantError(create(r.owner, codersdk.Me, codersdk.CreateTaskRequest{TemplateVersionID: run, Input: "x", DisplayName: strings.Repeat("é", 33)}),
			400, "Display name must be 64 characters or less.")
	})
	r.check("CreateTask refuses a name in use", func() error {
		return wantValidation(create(r.owner, codersdk.Me, codersdk.CreateTaskRequest{TemplateVersionID: run, Input: "x", Name: "sdk-a"}),
			409, `Workspace "sdk-a" already exists.`, "name", "This value is already in use and should be unique.")
	})
	r.check("CreateTask for an unknown user is 404", func() error {
		return wantError(create(r.owner, "no-such-user", codersdk.CreateTaskRequest{TemplateVersionID: run, Input: "x"}), 404, notFound)
	})
	r.check("CreateTask without a session is 401", func() error {
		return wantError(create(r.anon, r.cfg.Owner.Username, codersdk.CreateTaskRequest{TemplateVersionID: run, Input: "x"}), 401, signedOut)
	})
}

const signedOut = "You are signed out or your session has expired. Please sign in again to continue."
