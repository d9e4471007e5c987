"""Who is calling, and may they.

- ``users``: users, their password hashes and digest secrets, and seen nonces;
- ``usernametoken``: WS-Security UsernameToken (PasswordText and PasswordDigest);
- ``identity``: the caller of a request, from WS-Security or HTTP Basic, and the
  policy of which operations are anonymous.
"""
