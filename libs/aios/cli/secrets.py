"""`aios secrets`: seal secrets stored in clear before encryption, and rotate the key-encryption key.

Rotation never stops a service: the new KEK is added to the keyring as the one that wraps, every data
key is re-wrapped under it, and the old KEK stays readable until the next rotation finds no data key
under it and drops it. With `AIOS_KEYS_KEK` (or a KMS) the operator swaps the KEK itself; this command
then re-wraps.
"""

from __future__ import annotations

import asyncpg
import typer

from aios.connectors.config import ConnectorConfigs
from aios.db.pool import run_on_database
from aios.keys.envelope import DataKeys, kek_ids_in_use, rewrap
from aios.keys.keyring import FileKeyRing, local_keyring
from aios.tenants.store import TenantStore

app = typer.Typer(no_args_is_help=True, help="Secrets at rest: seal what is in clear, rotate the KEK.")


async def _seal(pool: asyncpg.Pool, data_keys: DataKeys) -> tuple[int, int]:
    return (
        await TenantStore(pool, data_keys=data_keys).seal_plaintext_secrets(),
        await ConnectorConfigs(pool, data_keys=data_keys).seal_plaintext(),
    )


@app.command()
def seal() -> None:
    """Encrypt webhook signing secrets and connector configurations written before encryption."""
    secrets, configs = run_on_database(lambda pool: _seal(pool, DataKeys(pool)))
    typer.echo(f"sealed {secrets} webhook secret(s) and {configs} connector configuration(s)")


@app.command("rotate-kek")
def rotate_kek() -> None:
    """Make a new key-encryption key current and re-wrap every data key under it, while services run."""
    keks = local_keyring()

    async def work(pool: asyncpg.Pool) -> tuple[str, int, list[str]]:
        dropped: list[str] = []
        if isinstance(keks, FileKeyRing):
            # KEKs retired by an earlier rotation that no data key uses any more; a KEK retired now may
            # still wrap a key a service made a moment ago, so it waits for the next rotation.
            unused = set(keks.ids()) - {keks.current_id()} - await kek_ids_in_use(pool)
            keks.drop(unused)
            dropped = sorted(unused)
            keks.add_current()
        await _seal(pool, DataKeys(pool, keks))
        return keks.current_id(), await rewrap(pool, keks), dropped

    current, rewrapped, dropped = run_on_database(work)
    typer.echo(f"KEK {current} is current; re-wrapped {rewrapped} data key(s)")
    if dropped:
        typer.echo(f"dropped unused KEK(s) {', '.join(dropped)}")
