package renderer

import (
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

func TestIncompleteJobPacing(t *testing.T) {
	a, _ := watch.ParseService("a")
	b, _ := watch.ParseService("b")
	exec := time.Now()
	tests := []struct {
		name     string
		missing  []watch.Spec
		arrive   []string // touched after the execution, in order
		rendered bool
		wait     Wait
		want     time.Duration // after the execution; -1: not due
	}{
		{name: "complete: at once", arrive: []string{a.String()}, want: 10 * time.Millisecond},
		{name: "one of two missing arrived: paced", missing: []watch.Spec{a, b}, arrive: []string{a.String()},
			want: incompleteInterval},
		{name: "every missing query arrived: at once", missing: []watch.Spec{a, b},
			arrive: []string{a.String(), b.String()}, want: 20 * time.Millisecond},
		{name: "nothing arrived: not due", missing: []watch.Spec{a, b}, want: -1},
		{name: "paced and waiting: the later", missing: []watch.Spec{a, b}, arrive: []string{a.String()},
			rendered: true, wait: Wait{Min: time.Second}, want: time.Second + 10*time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := &job{t: Template{Wait: tc.wait}, rendered: tc.rendered, used: map[string]watch.Spec{a.String(): a, b.String(): b}}
			j.execAt = exec
			j.await(tc.missing)
			for i, key := range tc.arrive {
				j.touch(key, exec.Add(time.Duration(i+1)*10*time.Millisecond))
			}
			got := j.dueAt()
			if tc.want < 0 {
				if !got.IsZero() {
					t.Errorf("due %v after the execution, want never", got.Sub(exec))
				}
				return
			}
			if got.IsZero() || got.Sub(exec) != tc.want {
				t.Errorf("due %v after the execution, want %v", got.Sub(exec), tc.want)
			}
		})
	}
}
