// Interop peer built on golang.org/x/crypto/ssh (Debian's golang-golang-x-crypto-dev), compiled by the
// tests with GO111MODULE=off GOPATH=/usr/share/gocode.
//
//	go-peer client -port N -user U [-key FILE] [-password PW] [-host-pub FILE] [-host-alg ALG] [-pty] [-shell] [-cmd C]
//	go-peer server -port N -host-key FILE -authorized FILE (authorized_keys lines) [-password PW]
//
// client: remote stdout/stderr to ours, our stdin to the remote, exit with the remote status; its own
// failures print one `peer-error: ...` line and exit 255. -host-pub pins the host key (ssh.FixedHostKey).
// server: prints "listening PORT" once bound; each exec runs `/bin/sh -c CMD` and returns its status,
// a shell request runs /bin/sh (no pty emulation: the pty-req is accepted and ignored).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "peer-error: "+format+"\n", a...)
	os.Exit(255)
}

func readPub(path string) ssh.PublicKey {
	b, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		die("%s: %v", path, err)
	}
	return k
}

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	port := fs.Int("port", 0, "")
	user := fs.String("user", "", "")
	key := fs.String("key", "", "")
	password := fs.String("password", "", "")
	hostPub := fs.String("host-pub", "", "")
	hostAlg := fs.String("host-alg", "", "")
	pty := fs.Bool("pty", false, "")
	shell := fs.Bool("shell", false, "")
	cmd := fs.String("cmd", "", "")
	fs.Parse(args)
	cfg := &ssh.ClientConfig{User: *user, HostKeyCallback: ssh.InsecureIgnoreHostKey()}
	if *hostPub != "" {
		cfg.HostKeyCallback = ssh.FixedHostKey(readPub(*hostPub))
	}
	if *hostAlg != "" {
		cfg.HostKeyAlgorithms = []string{*hostAlg}
	}
	if *key != "" {
		b, err := os.ReadFile(*key)
		if err != nil {
			die("%v", err)
		}
		signer, err := ssh.ParsePrivateKey(b)
		if err != nil {
			die("%s: %v", *key, err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if *password != "" {
		cfg.Auth = append(cfg.Auth, ssh.Password(*password))
	}
	c, err := ssh.Dial("tcp", "127.0.0.1:"+strconv.Itoa(*port), cfg)
	if err != nil {
		die("%v", err)
	}
	s, err := c.NewSession()
	if err != nil {
		die("%v", err)
	}
	s.Stdin = os.Stdin
	s.Stdout = os.Stdout
	s.Stderr = os.Stderr
	if *pty {
		if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
			die("pty: %v", err)
		}
	}
	if *shell {
		if err := s.Shell(); err == nil {
			err = s.Wait()
		}
	} else {
		err = s.Run(*cmd)
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitStatus())
	} else if err != nil {
		die("%v", err)
	}
}

func server(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	port := fs.Int("port", 0, "")
	hostKey := fs.String("host-key", "", "")
	authorized := fs.String("authorized", "", "")
	password := fs.String("password", "", "")
	fs.Parse(args)
	var allowed [][]byte
	rest, err := os.ReadFile(*authorized)
	if err != nil {
		die("%v", err)
	}
	for len(bytes.TrimSpace(rest)) > 0 {
		k, _, _, r, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			die("%s: %v", *authorized, err)
		}
		allowed = append(allowed, k.Marshal())
		rest = r
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			for _, a := range allowed {
				if bytes.Equal(k.Marshal(), a) {
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		},
	}
	if *password != "" {
		cfg.PasswordCallback = func(_ ssh.ConnMetadata, p []byte) (*ssh.Permissions, error) {
			if string(p) == *password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	b, err := os.ReadFile(*hostKey)
	if err != nil {
		die("%v", err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		die("%v", err)
	}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*port))
	if err != nil {
		die("%v", err)
	}
	fmt.Printf("listening %d\n", l.Addr().(*net.TCPAddr).Port)
	for {
		nc, err := l.Accept()
		if err != nil {
			die("%v", err)
		}
		go serveConn(nc, cfg)
	}
}

func serveConn(nc net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "no")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go session(ch, chReqs)
	}
}

func session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		var c *exec.Cmd
		switch req.Type {
		case "pty-req", "env":
			req.Reply(req.Type == "pty-req", nil)
			continue
		case "exec":
			var p struct{ Command string }
			if ssh.Unmarshal(req.Payload, &p) != nil {
				req.Reply(false, nil)
				continue
			}
			c = exec.Command("/bin/sh", "-c", p.Command)
		case "shell":
			c = exec.Command("/bin/sh")
		default:
			req.Reply(false, nil)
			continue
		}
		req.Reply(true, nil)
		stdin, _ := c.StdinPipe()
		c.Stdout = ch
		c.Stderr = ch.Stderr()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { io.Copy(stdin, ch); stdin.Close(); wg.Done() }()
		status := 0
		if err := c.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else {
				status = 127
			}
		}
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ S uint32 }{uint32(status)}))
		return
	}
}

func main() {
	if len(os.Args) < 2 {
		die("usage: go-peer client|server ...")
	}
	switch os.Args[1] {
	case "client":
		client(os.Args[2:])
	case "server":
		server(os.Args[2:])
	default:
		die("usage: go-peer client|server ...")
	}
}
