"""Reviewer passwords: Argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommendation).

Hashing costs a few hundred milliseconds of CPU by design; the async callers run it on a thread
pool sized to the cores (argon2 releases the GIL), so sign-ins never stall the event loop that
serves every other page and the health checks.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from aios.review.errors import WeakPassword

MIN_LENGTH = 12

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("an unknown reviewer still costs one verification")
_HASHING = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="argon2")


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a reviewer password needs at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user (`stored` None) takes as long as a wrong password."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, hash_password, password)


async def verify_password_off_loop(stored: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, verify_password, stored, password)
