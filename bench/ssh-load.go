// A light SSH load client for bench/serve.bench.ts (issue 14): golang.org/x/crypto/ssh from Debian
// (golang-golang-x-crypto-dev), built by the bench with GO111MODULE=off GOPATH=/usr/share/gocode.
// One process, -c goroutines, each looping for -seconds (or until -n logins in all):
//
//	TCP connect (TCP_NODELAY) → key exchange (only -kex, -cipher, -mac and -host-alg offered, so a
//	completed handshake negotiated exactly those) → host key compared with -host-pub (ssh.FixedHostKey:
//	the bytes of the known key, never InsecureIgnoreHostKey) → publickey auth with -key → one session
//	channel, exec -cmd → stdout must be exactly -expect and the exit status 0 → close.
//
// Prints one JSON object: logins, seconds, rate (logins/s), p50/p99 latency (ms), errors (with the first
// error's text), the negotiated algorithms and this process's own CPU per login (getrusage, user + system,
// over the time box only). Exits 1 when any login failed: a load figure with failures in it is not one.
//
//	ssh-load -port N -user U -key FILE -host-pub FILE [-c 1] [-seconds 4] [-n 0] [-warmup 0]
//	         [-kex K] [-cipher C] [-mac M] [-host-alg A] [-cmd 'echo ok'] [-expect 'ok\n']
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "ssh-load: "+format+"\n", a...)
	os.Exit(2)
}

type result struct {
	Conc          int     `json:"conc"`
	Logins        int     `json:"logins"`
	Seconds       float64 `json:"seconds"`
	Rate          float64 `json:"rate"`
	P50           float64 `json:"p50"`
	P99           float64 `json:"p99"`
	Errors        int64   `json:"errors"`
	FirstError    string  `json:"firstError,omitempty"`
	CPUMsPerLogin float64 `json:"cpuMsPerLogin"`
	Kex           string  `json:"kex"`
	Cipher        string  `json:"cipher"`
	MAC           string  `json:"mac"`
	HostKey       string  `json:"hostKey"`
}

// cpuMs is this process's user + system CPU time so far, in ms.
func cpuMs() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		die("getrusage: %v", err)
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec)*1e3 + float64(t.Usec)/1e3 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// login runs one whole login and returns nil only if every step did what it should.
func login(addr string, cfg *ssh.ClientConfig, cmd, expect string) error {
	raw, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return err
	}
	defer raw.Close()
	if err := raw.(*net.TCPConn).SetNoDelay(true); err != nil {
		return err
	}
	raw.SetDeadline(time.Now().Add(60 * time.Second)) // a stuck server fails the login, never hangs the bench
	c, chans, reqs, err := ssh.NewClientConn(raw, addr, cfg)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	var out bytes.Buffer
	sess.Stdout = &out
	if err := sess.Run(cmd); err != nil { // nil only with exit-status 0
		return fmt.Errorf("exec %q: %w", cmd, err)
	}
	if out.String() != expect {
		return fmt.Errorf("exec %q: stdout %q, want %q", cmd, out.String(), expect)
	}
	return nil
}

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(xs)))
	if i >= len(xs) {
		i = len(xs) - 1
	}
	return xs[i]
}

func main() {
	port := flag.Int("port", 0, "server port on 127.0.0.1")
	user := flag.String("user", "", "user name")
	keyFile := flag.String("key", "", "private key (unencrypted OpenSSH)")
	hostPub := flag.String("host-pub", "", "the server's host public key (authorized_keys format): pinned")
	conc := flag.Int("c", 1, "concurrent workers")
	seconds := flag.Float64("seconds", 4, "time box")
	total := flag.Int64("n", 0, "stop after this many logins in all (0: the time box only)")
	warmup := flag.Int("warmup", 0, "sequential logins before the time box (not counted)")
	kex := flag.String("kex", "curve25519-sha256@libssh.org", "the one key exchange offered")
	cipher := flag.String("cipher", "aes128-ctr", "the one cipher offered (both ways)")
	mac := flag.String("mac", "hmac-sha2-256", "the one MAC offered (both ways; unused by an AEAD cipher)")
	hostAlg := flag.String("host-alg", "ssh-ed25519", "the one host-key algorithm offered")
	cmd := flag.String("cmd", "echo ok", "command to exec")
	expect := flag.String("expect", "ok\n", "its exact stdout")
	flag.Parse()
	if *port == 0 || *user == "" || *keyFile == "" || *hostPub == "" {
		die("-port, -user, -key and -host-pub are required")
	}
	pem, err := os.ReadFile(*keyFile)
	if err != nil {
		die("%v", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		die("%s: %v", *keyFile, err)
	}
	hb, err := os.ReadFile(*hostPub)
	if err != nil {
		die("%v", err)
	}
	hk, _, _, _, err := ssh.ParseAuthorizedKey(hb)
	if err != nil {
		die("%s: %v", *hostPub, err)
	}
	cfg := &ssh.ClientConfig{
		Config:            ssh.Config{KeyExchanges: []string{*kex}, Ciphers: []string{*cipher}, MACs: []string{*mac}},
		User:              *user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   ssh.FixedHostKey(hk),
		HostKeyAlgorithms: []string{*hostAlg},
		Timeout:           30 * time.Second,
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	for i := 0; i < *warmup; i++ {
		if err := login(addr, cfg, *cmd, *expect); err != nil {
			die("warm-up login: %v", err)
		}
	}

	var (
		mu       sync.Mutex
		lat      []float64
		nErr     int64
		firstErr error
		started  int64
		wg       sync.WaitGroup
	)
	c0 := cpuMs()
	t0 := time.Now()
	end := t0.Add(time.Duration(*seconds * float64(time.Second)))
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && (*total == 0 || atomic.AddInt64(&started, 1) <= *total) {
				s := time.Now()
				err := login(addr, cfg, *cmd, *expect)
				ms := float64(time.Since(s).Microseconds()) / 1e3
				mu.Lock()
				if err != nil {
					nErr++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return // this worker stops: one failure spoils the figure, a retry loop would hide it
				} else {
					lat = append(lat, ms)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(t0).Seconds()
	cpu := cpuMs() - c0
	sort.Float64s(lat)
	r := result{Conc: *conc, Logins: len(lat), Seconds: wall, Rate: float64(len(lat)) / wall, P50: pct(lat, 50), P99: pct(lat, 99),
		Errors: nErr, Kex: *kex, Cipher: *cipher, MAC: *mac, HostKey: *hostAlg}
	if len(lat) > 0 {
		r.CPUMsPerLogin = cpu / float64(len(lat))
	}
	if firstErr != nil {
		r.FirstError = firstErr.Error()
	}
	enc, _ := json.Marshal(r)
	fmt.Println(string(enc))
	if nErr > 0 || len(lat) == 0 {
		if len(lat) == 0 && firstErr == nil {
			firstErr = errors.New("no login completed")
		}
		fmt.Fprintf(os.Stderr, "ssh-load: %d of %d logins failed; first: %v\n", nErr, int64(len(lat))+nErr, firstErr)
		os.Exit(1)
	}
}
