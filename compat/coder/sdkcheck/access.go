// What a member may not do to the owner's task (Coder answers 404, never 403), and deleting tasks.
package main

import (
	"fmt"

	"github.com/coder/coder/v2/codersdk"
)

func (r *runner) access(ts *taskSet) {
	a := ts.a
	r.check("a member cannot read another's task by id", func() error {
		_, err := r.member.TaskByID(r.ctx, a.ID)
		return wantError(err, 404, notFound)
	})
	r.check("a member cannot read another's task by owner and name", func() error {
		_, err := r.member.TaskByOwnerAndName(r.ctx, r.cfg.Owner.Username, a.Name)
		return wantError(err, 404, notFound)
	})
	r.check("a member cannot read another's task logs", func() error {
		_, err := r.member.TaskLogs(r.ctx, codersdk.Me, a.ID)
		return wantError(err, 404, notFound)
	})
	r.check("a member cannot send to another's task", func() error {
		return wantError(r.member.TaskSend(r.ctx, codersdk.Me, a.ID, codersdk.TaskSendRequest{Input: "hi"}), 404, notFound)
	})
	r.check("a member cannot pause another's task", func() error {
		_, err := r.member.PauseTask(r.ctx, codersdk.Me, a.ID)
		return wantError(err, 404, notFound)
	})
	r.check("a member cannot delete another's task", func() error {
		return wantError(r.member.DeleteTask(r.ctx, codersdk.Me, a.ID), 404, notFound)
	})
	r.check("the site owner reads a member's task by id", func() error {
		if err := need(ts.member); err != nil {
			return err
		}
		t, err := r.owner.TaskByID(r.ctx, ts.member.ID)
		if err != nil {
			return err
		}
		return sameTask(t, ts.member)
	})
}

func (r *runner) remove(ts *taskSet) {
	r.check("DeleteTask", func() error {
		if err := need(ts.a); err != nil {
			return err
		}
		return r.owner.DeleteTask(r.ctx, codersdk.Me, ts.a.ID)
	})
	r.check("a deleted task is 404", func() error {
		_, err := r.owner.TaskByID(r.ctx, ts.a.ID)
		return wantError(err, 404, notFound)
	})
	r.check("DeleteTask of a deleted task is 404", func() error {
		return wantError(r.owner.DeleteTask(r.ctx, codersdk.Me, ts.a.ID), 404, notFound)
	})
	r.check("DeleteTask of a member's task by the site owner", func() error {
		if err := need(ts.member); err != nil {
			return err
		}
		return r.owner.DeleteTask(r.ctx, r.cfg.Member.Username, ts.member.ID)
	})
	r.check("DeleteTask of the remaining tasks", func() error {
		if err := need(ts.generated, ts.preset, ts.stuck); err != nil {
			return err
		}
		for _, t := range []codersdk.Task{ts.generated, ts.preset, ts.stuck} {
			if err := r.owner.DeleteTask(r.ctx, codersdk.Me, t.ID); err != nil {
				return err
			}
		}
		list, err := r.owner.Tasks(r.ctx, nil)
		if err != nil {
			return err
		}
		if len(list) != 0 {
			return fmt.Errorf("%d tasks left after deleting them all", len(list))
		}
		return nil
	})
}
