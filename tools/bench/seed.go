package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// registry writes to one Consul agent's catalog through /v1/txn.
type registry struct {
	base  string // http://host:port
	token string // X-Consul-Token of every write; "" for none
	hc    *http.Client
	n, m  int // services × instances
}

// instance identifies one seeded instance.
type instance struct{ svc, inst int }

func (r *registry) svcName(s int) string   { return fmt.Sprintf("svc%05d", s) }
func (r *registry) node(i instance) string { return fmt.Sprintf("node%03d", (i.svc*r.m+i.inst)%nodes) }
func (r *registry) id(i instance) string   { return fmt.Sprintf("%s-%d", r.svcName(i.svc), i.inst) }

// nodes is how many nodes carry the instances.
const nodes = 200

// line is the instance's line in a rendered file: a unique address:port.
func (r *registry) line(i instance) string {
	g := i.svc*r.m + i.inst
	return fmt.Sprintf("10.%d.%d.%d:%d", g>>16&255, g>>8&255, g&255, 20000+i.inst)
}

func (r *registry) addr(i instance) string {
	g := i.svc*r.m + i.inst
	return fmt.Sprintf("10.%d.%d.%d", g>>16&255, g>>8&255, g&255)
}

type txnOp map[string]any

// seed registers the nodes and every instance with a passing check.
func (r *registry) seed(ctx context.Context) error {
	var ops []txnOp
	for n := range nodes {
		ops = append(ops, txnOp{"Node": map[string]any{"Verb": "set", "Node": map[string]any{
			"Node": fmt.Sprintf("node%03d", n), "Address": fmt.Sprintf("192.168.%d.%d", n>>8, n&255)}}})
	}
	for s := range r.n {
		for j := range r.m {
			i := instance{s, j}
			ops = append(ops,
				txnOp{"Service": map[string]any{"Verb": "set", "Node": r.node(i), "Service": map[string]any{
					"ID": r.id(i), "Service": r.svcName(s), "Address": r.addr(i), "Port": 20000 + j}}},
				txnOp{"Check": map[string]any{"Verb": "set", "Check": r.check(i, "passing")}})
		}
	}
	for k := 0; k < nodes; k += txnOps { // nodes first: services refer to them
		if err := r.txn(ctx, ops[k:min(k+txnOps, nodes)]); err != nil {
			return err
		}
	}
	ops = ops[nodes:]
	var chunks [][]txnOp
	for len(ops) > 0 {
		n := min(len(ops), txnOps)
		chunks = append(chunks, ops[:n])
		ops = ops[n:]
	}
	work := make(chan []txnOp)
	errs := make(chan error, seedWorkers)
	var wg sync.WaitGroup
	for range seedWorkers {
		wg.Go(func() {
			for c := range work {
				if err := r.txn(ctx, c); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, c := range chunks {
		select {
		case work <- c:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// txnOps is the most operations Consul takes in one transaction.
const txnOps = 128

// seedWorkers is how many transactions seeding runs at once.
const seedWorkers = 4

func (r *registry) check(i instance, status string) map[string]any {
	return map[string]any{"Node": r.node(i), "CheckID": "chk-" + r.id(i), "Name": "alive",
		"Status": status, "ServiceID": r.id(i)}
}

// setHealth sets one instance's check and returns when Consul has
// committed the write.
func (r *registry) setHealth(ctx context.Context, i instance, passing bool) error {
	status := "critical"
	if passing {
		status = "passing"
	}
	return r.txn(ctx, []txnOp{{"Check": map[string]any{"Verb": "set", "Check": r.check(i, status)}}})
}

func (r *registry) txn(ctx context.Context, ops []txnOp) error {
	body, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, r.base+"/v1/txn", bytes.NewReader(body))
	if err != nil {
		return err
	}
	if r.token != "" {
		req.Header.Set("X-Consul-Token", r.token)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("txn: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || bytes.Contains(msg, []byte(`"Errors": [`)) || bytes.Contains(msg, []byte(`"Errors":[`)) {
		return fmt.Errorf("txn: %s: %s", resp.Status, bytes.TrimSpace(msg[:min(len(msg), 300)]))
	}
	return nil
}

// extra is the k-th instance registered during a run, of service svc.
type extra struct{ k, svc int }

func (r *registry) extraID(e extra) string { return fmt.Sprintf("extra-%d", e.k) }
func (r *registry) extraLine(e extra) string {
	return fmt.Sprintf("11.%d.%d.%d:%d", e.k>>16&255, e.k>>8&255, e.k&255, 30000)
}

// register adds (or with del removes) an extra instance.
func (r *registry) register(ctx context.Context, e extra, del bool) error {
	node := fmt.Sprintf("node%03d", e.k%nodes)
	if del {
		return r.txn(ctx, []txnOp{{"Service": map[string]any{"Verb": "delete", "Node": node,
			"Service": map[string]any{"ID": r.extraID(e), "Service": r.svcName(e.svc)}}}})
	}
	return r.txn(ctx, []txnOp{{"Service": map[string]any{"Verb": "set", "Node": node, "Service": map[string]any{
		"ID": r.extraID(e), "Service": r.svcName(e.svc), "Address": fmt.Sprintf("11.%d.%d.%d", e.k>>16&255, e.k>>8&255, e.k&255),
		"Port": 30000}}}})
}
