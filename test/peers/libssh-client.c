/*
 * Interop peer: one exec (or pty shell) with libssh (Debian's libssh-dev), compiled by the tests with
 *   cc -o libssh-client libssh-client.c $(pkg-config --cflags --libs libssh)
 *
 * usage: libssh-client PORT USER HOST_PUB_FILE (key FILE | password PW) [pty] [shell] -- COMMAND
 *
 * The host key must equal HOST_PUB_FILE's key (pinning; the host-key algorithm is narrowed to its
 * type). Remote stdout/stderr go to ours, our stdin to the remote; exit status is the remote one. Own
 * failures print one `peer-error: ...` line and exit 255.
 */
#include <libssh/libssh.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(ssh_session s, const char *what) {
  fprintf(stderr, "peer-error: %s: %s\n", what, s ? ssh_get_error(s) : "");
  exit(255);
}

static const char *host_alg(enum ssh_keytypes_e t, ssh_key k) {
  switch (t) {
  case SSH_KEYTYPE_ED25519: return "ssh-ed25519";
  case SSH_KEYTYPE_RSA: return "rsa-sha2-512,rsa-sha2-256";
  default: return ssh_pki_key_ecdsa_name(k);
  }
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "peer-error: usage: libssh-client PORT USER HOST_PUB (key F|password P) [pty] [shell] -- CMD\n");
    return 255;
  }
  int port = atoi(argv[1]);
  const char *user = argv[2], *hostpub = argv[3], *how = argv[4], *cred = argv[5];
  int pty = 0, shell = 0, i = 6;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (!strcmp(argv[i], "pty")) pty = 1;
    if (!strcmp(argv[i], "shell")) shell = 1;
  }
  const char *cmd = i + 1 < argc ? argv[i + 1] : "";

  ssh_key pinned = NULL;
  if (ssh_pki_import_pubkey_file(hostpub, &pinned) != SSH_OK) die(NULL, "cannot read host key file");
  ssh_session s = ssh_new();
  int no = 0;
  ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
  ssh_options_set(s, SSH_OPTIONS_PORT, &port);
  ssh_options_set(s, SSH_OPTIONS_USER, user);
  ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
  if (getenv("PEER_VERBOSE")) { /* debugging a failed cell: libssh's own protocol log on stderr */
    int v = SSH_LOG_FUNCTIONS;
    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &v);
  }
  ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, host_alg(ssh_key_type(pinned), pinned));
  if (ssh_connect(s) != SSH_OK) die(s, "connect");

  ssh_key srv = NULL;
  if (ssh_get_server_publickey(s, &srv) != SSH_OK) die(s, "server key");
  if (ssh_key_cmp(srv, pinned, SSH_KEY_CMP_PUBLIC) != 0) die(s, "host key mismatch");

  int rc;
  if (!strcmp(how, "key")) {
    ssh_key k = NULL;
    if (ssh_pki_import_privkey_file(cred, NULL, NULL, NULL, &k) != SSH_OK) die(s, "cannot read private key");
    rc = ssh_userauth_publickey(s, NULL, k);
  } else {
    rc = ssh_userauth_password(s, NULL, cred);
  }
  if (rc != SSH_AUTH_SUCCESS) die(s, "authentication failed");

  ssh_channel ch = ssh_channel_new(s);
  if (!ch || ssh_channel_open_session(ch) != SSH_OK) die(s, "open session");
  if (pty && ssh_channel_request_pty_size(ch, "xterm", 80, 24) != SSH_OK) die(s, "pty");
  if ((shell ? ssh_channel_request_shell(ch) : ssh_channel_request_exec(ch, cmd)) != SSH_OK) die(s, "exec");

  char buf[65536];
  int in_open = 1;
  while (!ssh_channel_is_eof(ch)) {
    if (in_open) {
      struct pollfd p = {0, POLLIN, 0};
      if (poll(&p, 1, 0) > 0) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0) {
          ssh_channel_send_eof(ch);
          in_open = 0;
        } else if (ssh_channel_write(ch, buf, (uint32_t)n) != n) {
          die(s, "write");
        }
      }
    }
    int got = 0;
    for (int err = 0; err <= 1; err++) {
      int n = ssh_channel_read_timeout(ch, buf, sizeof buf, err, in_open ? 10 : 200);
      if (n == SSH_ERROR) die(s, "read");
      if (n > 0) {
        got = 1;
        fwrite(buf, 1, (size_t)n, err ? stderr : stdout);
      }
    }
    (void)got;
  }
  for (int err = 0; err <= 1; err++) { /* anything left after EOF */
    int n;
    while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof buf, err)) > 0) fwrite(buf, 1, (size_t)n, err ? stderr : stdout);
  }
  fflush(stdout);
  int status = ssh_channel_get_exit_status(ch);
  ssh_channel_close(ch);
  ssh_channel_free(ch);
  ssh_disconnect(s);
  ssh_free(s);
  return status < 0 ? 255 : status;
}
