/*
 * Interop peer: an exec-only SSH server with libssh (Debian's libssh-dev, ssh_bind + ssh_event), for
 * `sshkit exec` to connect to. Compiled by the tests with
 *   cc -o libssh-server libssh-server.c $(pkg-config --cflags --libs libssh)
 *
 * usage: libssh-server HOST_KEY_FILE AUTHORIZED_KEYS_FILE
 * Prints `listening PORT` once bound (port chosen by the kernel). Each connection is served by a forked
 * child (stopped with its parent, and after 60 s, killing the command's process group): any user name,
 * public-key auth against the keys of AUTHORIZED_KEYS_FILE (libssh verifies the signature), one session
 * channel, one exec run as `/bin/sh -c COMMAND` with the channel streamed to its stdin and its
 * stdout/stderr and exit status back.
 */
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KEYS 64
static ssh_key authorized[MAX_KEYS];
static int n_authorized;

static void load_authorized(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); exit(2); }
  char line[16384];
  while (n_authorized < MAX_KEYS && fgets(line, sizeof line, f)) {
    char *type = strtok(line, " \t\r\n"), *b64 = strtok(NULL, " \t\r\n");
    if (!type || !b64 || type[0] == '#') continue;
    if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &authorized[n_authorized]) == SSH_OK) n_authorized++;
  }
  fclose(f);
}

static int is_authorized(ssh_key k) {
  for (int i = 0; i < n_authorized; i++)
    if (ssh_key_cmp(k, authorized[i], SSH_KEY_CMP_PUBLIC) == 0) return 1;
  return 0;
}

/* Auth, channel open and exec through libssh's message API; returns the channel and sets *cmd. */
static ssh_channel negotiate(ssh_session s, char **cmd) {
  ssh_channel chan = NULL;
  ssh_message m;
  while ((m = ssh_message_get(s)) != NULL) {
    int type = ssh_message_type(m), sub = ssh_message_subtype(m), done = 0;
    if (type == SSH_REQUEST_AUTH && sub == SSH_AUTH_METHOD_PUBLICKEY && is_authorized(ssh_message_auth_pubkey(m))) {
      int st = ssh_message_auth_publickey_state(m);
      if (st == SSH_PUBLICKEY_STATE_NONE) { ssh_message_auth_reply_pk_ok_simple(m); ssh_message_free(m); continue; }
      if (st == SSH_PUBLICKEY_STATE_VALID) { ssh_message_auth_reply_success(m, 0); ssh_message_free(m); continue; }
    }
    if (type == SSH_REQUEST_AUTH) {
      ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
    } else if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_SESSION && !chan) {
      chan = ssh_message_channel_request_open_reply_accept(m);
      ssh_message_free(m);
      continue;
    } else if (type == SSH_REQUEST_CHANNEL && sub == SSH_CHANNEL_REQUEST_EXEC && chan) {
      *cmd = strdup(ssh_message_channel_request_command(m));
      ssh_message_channel_request_reply_success(m);
      done = 1;
    }
    if (!done) ssh_message_reply_default(m);
    ssh_message_free(m);
    if (done) return chan;
  }
  return NULL;
}

static pid_t command_pid; /* its own process group (setsid), killed with this connection's child */

static void on_stop(int sig) {
  (void)sig;
  if (command_pid > 0) kill(-command_pid, SIGKILL);
  _exit(1);
}

struct io { ssh_channel chan; int eof; int err; };

/* ssh_event fd callback: one read from the command's stdout or stderr, written to the channel. */
static int from_child(socket_t fd, int revents, void *userdata) {
  struct io *io = userdata;
  char buf[32768];
  (void)revents;
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    int w = io->err ? ssh_channel_write_stderr(io->chan, buf, (uint32_t)n) : ssh_channel_write(io->chan, buf, (uint32_t)n);
    if (w != n) io->eof = 1;
  } else if (n == 0 || errno != EAGAIN) {
    io->eof = 1;
  }
  return 0;
}

static void serve(ssh_session s) {
  char *cmd = NULL;
  long timeout = 30;
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
  if (ssh_handle_key_exchange(s) != SSH_OK) { fprintf(stderr, "kex: %s\n", ssh_get_error(s)); return; }
  ssh_set_auth_methods(s, SSH_AUTH_METHOD_PUBLICKEY);
  ssh_channel chan = negotiate(s, &cmd);
  if (!chan) { fprintf(stderr, "no exec: %s\n", ssh_get_error(s)); return; }

  int in[2], out[2], err[2];
  if (pipe(in) || pipe(out) || pipe(err)) return;
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    dup2(in[0], 0); dup2(out[1], 1); dup2(err[1], 2);
    close(in[1]); close(out[0]); close(err[0]);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  command_pid = pid;
  close(in[0]); close(out[1]); close(err[1]);
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);

  struct io o = { chan, 0, 0 }, e = { chan, 0, 1 };
  ssh_event ev = ssh_event_new();
  ssh_event_add_session(ev, s);
  ssh_event_add_fd(ev, out[0], POLLIN, from_child, &o);
  ssh_event_add_fd(ev, err[0], POLLIN, from_child, &e);
  int o_on = 1, e_on = 1, in_fd = in[1], status = 0, reaped = 0;
  char inbuf[65536];
  size_t inlen = 0, inoff = 0;
  while (!(o.eof && e.eof && reaped)) {
    ssh_event_dopoll(ev, 20);
    if (o.eof && o_on) { ssh_event_remove_fd(ev, out[0]); o_on = 0; }
    if (e.eof && e_on) { ssh_event_remove_fd(ev, err[0]); e_on = 0; }
    if (in_fd >= 0) { /* the client's data to the command's stdin, never blocking */
      if (inlen == 0) {
        int n = ssh_channel_read_nonblocking(chan, inbuf, sizeof inbuf, 0);
        if (n > 0) { inlen = (size_t)n; inoff = 0; }
        else if (n == SSH_EOF || n == SSH_ERROR || ssh_channel_is_eof(chan)) { close(in_fd); in_fd = -1; }
      }
      if (inlen > 0) {
        ssize_t w = write(in_fd, inbuf + inoff, inlen);
        if (w > 0) { inoff += (size_t)w; inlen -= (size_t)w; }
        else if (w < 0 && errno != EAGAIN) { close(in_fd); in_fd = -1; inlen = 0; }
      }
    }
    if (o.eof && e.eof && !reaped && waitpid(pid, &status, 0) == pid) reaped = 1;
    if (!ssh_is_connected(s)) break;
  }
  if (in_fd >= 0) close(in_fd);
  command_pid = 0;
  ssh_channel_request_send_exit_status(chan, WIFEXITED(status) ? WEXITSTATUS(status) : 255);
  ssh_channel_send_eof(chan);
  ssh_channel_close(chan);
  /* Send what is still queued, then let the client hang up first (not to lose it to a TCP reset). */
  ssh_blocking_flush(s, 10000);
  for (int i = 0; i < 250 && ssh_is_connected(s); i++) ssh_event_dopoll(ev, 20);
  ssh_event_free(ev);
  ssh_disconnect(s);
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: libssh-server HOST_KEY AUTHORIZED_KEYS\n"); return 2; }
  load_authorized(argv[2]);
  ssh_key host;
  if (ssh_pki_import_privkey_file(argv[1], NULL, NULL, NULL, &host) != SSH_OK) { fprintf(stderr, "cannot read host key %s\n", argv[1]); return 2; }
  ssh_bind b = ssh_bind_new();
  unsigned int port = 0;
  ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR, "127.0.0.1");
  ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT, &port);
  ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, host);
  if (ssh_bind_listen(b) != SSH_OK) { fprintf(stderr, "listen: %s\n", ssh_get_error(b)); return 2; }
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(ssh_bind_get_fd(b), (struct sockaddr *)&a, &al);
  printf("listening %d\n", ntohs(a.sin_port));
  fflush(stdout);
  signal(SIGCHLD, SIG_IGN);
  for (;;) {
    ssh_session s = ssh_new();
    if (ssh_bind_accept(b, s) != SSH_OK) { ssh_free(s); continue; }
    pid_t pid = fork();
    if (pid == 0) {
      signal(SIGCHLD, SIG_DFL);
      signal(SIGTERM, on_stop);
      signal(SIGALRM, on_stop);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      alarm(60);
      serve(s);
      ssh_free(s);
      _exit(0);
    }
    ssh_free(s);
  }
}
