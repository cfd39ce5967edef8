// Reading tasks: one task by id, by owner and name, by the CLI's identifier forms, and the list
// with every filter Coder's search grammar has, as the SDK spells them.
package main

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/coder/coder/v2/codersdk"
)

func sameTask(got codersdk.Task, want codersdk.Task) error {
	if got.ID != want.ID || got.Name != want.Name {
		return fmt.Errorf("got %s %q, want %s %q", got.ID, got.Name, want.ID, want.Name)
	}
	return nil
}

func (r *runner) reads(ts *taskSet) {
	a := ts.a
	get := func(name string, fn func() (codersdk.Task, error)) {
		r.check(name, func() error {
			if err := need(a); err != nil {
				return err
			}
			t, err := fn()
			if err != nil {
				return err
			}
			r.observe(t)
			return sameTask(t, a)
		})
	}
	get("TaskByID", func() (codersdk.Task, error) { return r.owner.TaskByID(r.ctx, a.ID) })
	get("TaskByOwnerAndName me", func() (codersdk.Task, error) { return r.owner.TaskByOwnerAndName(r.ctx, codersdk.Me, a.Name) })
	get("TaskByOwnerAndName username", func() (codersdk.Task, error) {
		return r.owner.TaskByOwnerAndName(r.ctx, r.cfg.Owner.Username, a.Name)
	})
	get("TaskByOwnerAndName owner id", func() (codersdk.Task, error) {
		return r.owner.TaskByOwnerAndName(r.ctx, r.cfg.Owner.ID.String(), a.Name)
	})
	get("TaskByOwnerAndName ignores case", func() (codersdk.Task, error) {
		return r.owner.TaskByOwnerAndName(r.ctx, codersdk.Me, strings.ToUpper(a.Name))
	})
	get("TaskByIdentifier id", func() (codersdk.Task, error) { return r.owner.TaskByIdentifier(r.ctx, a.ID.String()) })
	get("TaskByIdentifier name", func() (codersdk.Task, error) { return r.owner.TaskByIdentifier(r.ctx, a.Name) })
	get("TaskByIdentifier owner/name", func() (codersdk.Task, error) {
		return r.owner.TaskByIdentifier(r.ctx, r.cfg.Owner.Username+"/"+a.Name)
	})
	r.check("TaskByOwnerAndName of an unknown name is 404", func() error {
		_, err := r.owner.TaskByOwnerAndName(r.ctx, codersdk.Me, "no-such-task")
		return wantError(err, 404, notFound)
	})
	r.check("TaskByID of an unknown id is 404", func() error {
		_, err := r.owner.TaskByID(r.ctx, uuid.New())
		return wantError(err, 404, notFound)
	})
	r.check("TaskByOwnerAndName of an unknown user is 404", func() error {
		_, err := r.owner.TaskByOwnerAndName(r.ctx, "no-such-user", "sdk-a")
		return wantError(err, 404, notFound)
	})
}

// listHas runs a list as the given client and checks which tasks are and are not in it.
func (r *runner) listHas(name string, c *codersdk.Client, filter *codersdk.TasksFilter, in, out []codersdk.Task) {
	r.check(name, func() error {
		if err := need(append(append([]codersdk.Task{}, in...), out...)...); err != nil {
			return err
		}
		list, err := c.Tasks(r.ctx, filter)
		if err != nil {
			return err
		}
		r.observe(codersdk.TasksListResponse{})
		got := map[uuid.UUID]bool{}
		for _, t := range list {
			got[t.ID] = true
		}
		for _, t := range in {
			if !got[t.ID] {
				return fmt.Errorf("%q missing from %d tasks", t.Name, len(list))
			}
		}
		for _, t := range out {
			if got[t.ID] {
				return fmt.Errorf("%q listed, but it does not match", t.Name)
			}
		}
		return nil
	})
}

func (r *runner) lists(ts *taskSet) {
	mine := []codersdk.Task{ts.a, ts.stuck}
	member := []codersdk.Task{ts.member}
	r.listHas("Tasks without a filter (all the caller may see)", r.owner, nil, append(mine, ts.member), nil)
	r.listHas("Tasks owner me", r.owner, &codersdk.TasksFilter{Owner: codersdk.Me}, mine, member)
	r.listHas("Tasks owner username", r.owner, &codersdk.TasksFilter{Owner: r.cfg.Member.Username}, member, mine)
	r.listHas("Tasks owner id", r.owner, &codersdk.TasksFilter{Owner: r.cfg.Owner.ID.String()}, mine, member)
	r.listHas("Tasks organization name", r.owner, &codersdk.TasksFilter{Organization: r.cfg.OrganizationName}, append(mine, ts.member), nil)
	r.listHas("Tasks organization id", r.owner, &codersdk.TasksFilter{Organization: r.cfg.OrganizationID.String()}, mine, nil)
	r.listHas("Tasks status initializing", r.owner, &codersdk.TasksFilter{Owner: codersdk.Me, Status: codersdk.TaskStatusInitializing}, []codersdk.Task{ts.stuck}, nil)
	r.listHas("Tasks raw filter query", r.owner, &codersdk.TasksFilter{FilterQuery: fmt.Sprintf("owner:%s status:initializing", r.cfg.Member.Username)}, member, mine)
	r.listHas("Tasks free text is the owner", r.owner, &codersdk.TasksFilter{FilterQuery: r.cfg.Member.Username}, member, mine)
	r.listHas("Tasks of a member are only their own", r.member, nil, member, mine)
	r.check("Tasks count is the number of tasks", func() error {
		list, err := r.owner.Tasks(r.ctx, &codersdk.TasksFilter{Owner: codersdk.Me})
		if err != nil {
			return err
		}
		var res codersdk.TasksListResponse
		if err := jsonDecode(r.rec.lastBody(), &res); err != nil {
			return err
		}
		if res.Count != len(list) {
			return fmt.Errorf("count %d, %d tasks", res.Count, len(list))
		}
		return nil
	})
	refuse := func(name, q, field, part string) {
		r.check(name, func() error {
			_, err := r.owner.Tasks(r.ctx, &codersdk.TasksFilter{FilterQuery: q})
			return wantValidation(err, 400, "Invalid task search query.", field, part)
		})
	}
	refuse("Tasks refuses an unknown owner", "owner:no-such-user", "owner", "either does not exist, or you are unauthorized to view them")
	refuse("Tasks refuses an unknown organization", "organization:no-such-org", "organization", "either does not exist, or you are unauthorized to view it")
	refuse("Tasks refuses an unknown key", "colour:blue", "colour", "is not a valid query param")
	refuse("Tasks refuses a term ending in ':'", "owner:", "q", "cannot start or end with ':'")
	refuse("Tasks refuses a term with two ':'", "owner:a:b", "q", "can only contain 1 ':'")
	r.check("Tasks without a session is 401", func() error {
		_, err := r.anon.Tasks(r.ctx, nil)
		return wantError(err, 401, signedOut)
	})
}
