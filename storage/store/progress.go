package store

import (
	"sync"
	"time"
)

// Phase names a stage of a download or import.
type Phase string

// Phases, in order. Downloading covers the conversion too: tensors go into
// shards as their bytes arrive. Converting is the short tail (metadata,
// manifest); verifying re-reads every shard and checks its SHA-256.
const (
	PhaseDownloading Phase = "downloading"
	PhaseConverting  Phase = "converting"
	PhaseVerifying   Phase = "verifying"
)

// Progress is one report of a running job.
type Progress struct {
	ModelID string        `json:"modelId"`
	Phase   Phase         `json:"phase"`
	Bytes   int64         `json:"bytes"` // done in this phase (source bytes while downloading)
	Total   int64         `json:"total"` // 0 when unknown
	Rate    float64       `json:"rate"`  // bytes per second, this session
	ETA     time.Duration `json:"eta"`   // 0 when unknown
}

// ProgressFunc receives reports, at most every reportEvery plus one at each
// phase change and at the end. It runs on the job's goroutine: keep it fast.
type ProgressFunc func(Progress)

const reportEvery = 200 * time.Millisecond

type meter struct {
	mu       sync.Mutex
	fn       ProgressFunc
	now      func() time.Time
	id       string
	phase    Phase
	total    int64
	start    time.Time
	startAt  int64 // bytes already done when this phase started (resume)
	last     time.Time
	lastSent int64
}

func newMeter(id string, fn ProgressFunc, now func() time.Time) *meter {
	return &meter{fn: fn, now: now, id: id}
}

// begin starts a phase at done of total bytes and reports it.
func (m *meter) begin(p Phase, done, total int64) {
	if m == nil || m.fn == nil {
		return
	}
	m.mu.Lock()
	m.phase, m.total, m.startAt = p, total, done
	m.start = m.now()
	m.mu.Unlock()
	m.report(done, true)
}

// report sends done bytes when enough time passed (or force).
func (m *meter) report(done int64, force bool) {
	if m == nil || m.fn == nil {
		return
	}
	m.mu.Lock()
	t := m.now()
	if !force && t.Sub(m.last) < reportEvery {
		m.mu.Unlock()
		return
	}
	m.last, m.lastSent = t, done
	p := Progress{ModelID: m.id, Phase: m.phase, Bytes: done, Total: m.total}
	if el := t.Sub(m.start).Seconds(); el > 0 {
		p.Rate = float64(done-m.startAt) / el
	}
	if p.Rate > 0 && m.total > done {
		p.ETA = time.Duration(float64(m.total-done) / p.Rate * float64(time.Second))
	}
	m.mu.Unlock()
	m.fn(p)
}
