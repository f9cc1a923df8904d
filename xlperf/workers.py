"""Read untrusted workbooks in worker processes, so that a crash or a hang costs one file, not the batch.

Returned workbooks are hostile input, and the parser is native code: a 13 KB workbook whose one cell
sits at XFD1048576 (and whose ``<dimension>`` is left out) makes calamine ask for 512 GiB and abort the
whole process. :func:`read_isolated` therefore runs :func:`xlperf.reader.read_file` in worker
processes that

- are forked from a lean fork server (``forkserver`` context: no inherited threads or locks from the
  parent, whose rich progress thread or background imports would make a plain ``fork`` unsafe, and
  an address space small enough for a meaningful memory limit);
- limit their own address space (``RLIMIT_AS``, ``Limits.read_mem_mb`` / ``XLPERF_READ_MEM_MB``);
- get their work in chunks and stream one small message back per file (the parent always knows
  which file a worker is on; the overhead is ~0.1-0.3 ms a file, mostly pickling the result);
- are killed when one file takes longer than ``Limits.read_timeout_s`` (``XLPERF_READ_TIMEOUT``);
  the kernel also ends a worker that burns CPU far beyond that (RLIMIT_CPU) or outlives the main
  process, so nothing is left running after a ``kill -9``.

When a worker dies (signal, abort, exit) or times out, the results it already sent are kept, the
file it was on is retried alone in a fresh worker, and the files it had not started go back to the
queue. Only a file that kills a fresh worker on its own is given up, as ``F017`` naming the file and
the cause, so one poisoned file never takes a neighbour down with it.

Isolation is on even for a single file: one crafted file would otherwise end the run without a
report (a native abort cannot be caught), and a worker costs a few milliseconds once the fork
server runs, next to ~1 s of interpreter and pandas start-up. ``isolate=False`` (or
``XLPERF_READ_ISOLATION=0``) reads in-process, for debugging only.
"""
from __future__ import annotations

import math
import os
import pickle
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Callable

from .model import FileResult, Issue
from .reader import read_file
from .safety import Limits

__all__ = ["read_isolated"]

_MiB = 2**20
_CHUNK_MAX = 64
# Imported once in the fork server, so every worker starts warm (the reader imports some lazily;
# xml.sax.saxutils alone pulls in urllib/http/email, ~45 ms per process).
_PRELOAD = ["xlperf.workers", "xlperf.safety", "python_calamine", "zipfile", "xml.sax.saxutils", "defusedxml.ElementTree"]
_READY = b"ready"
_STARTUP_S = 60.0  # extra time a worker gets to start (the first one waits for the fork server)


# --------------------------------------------------------------------------- worker side


def _worker_main(conn, mem_limit_mb: int, reader: Callable, limits: Limits, err_path: str,
                 cpu_budget_s: float = 60.0) -> None:
    """Loop of one worker: receive a chunk [(index, path)], send back (index, FileResult) per file."""
    _quiet_stderr(err_path)
    os.environ["RUST_BACKTRACE"] = "0"  # one line in the crash log, not a backtrace
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills the workers
    _die_with_main_process()
    _limit_memory(mem_limit_mb)
    try:
        from .spec import bundled_specs

        bundled_specs()  # parse the form specs once per worker, not once per file
    except Exception:
        pass
    dumps = pickle.dumps
    try:
        conn.send_bytes(_READY)  # started cleanly: from now on a death is blamed on a file
    except (BrokenPipeError, EOFError, OSError):
        return
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        for idx, path in chunk:
            _cpu_budget(cpu_budget_s)
            try:
                res = reader(path, limits=limits)
                data = dumps((idx, res), pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                os._exit(99)  # the parent retries the file alone and reports it if it fails again
            except Exception as exc:  # a reader must not raise; if it does, the file is still reported
                res = _result(path, "F016", error=f"{type(exc).__name__}: {str(exc)[:200]}")
                data = dumps((idx, res), pickle.HIGHEST_PROTOCOL)
            try:
                conn.send_bytes(data)
            except (BrokenPipeError, EOFError, OSError):
                return


def _quiet_stderr(err_path: str) -> None:
    """Native crash messages (Rust panics, 'memory allocation failed') go to a file the parent reads."""
    try:
        fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stderr = open(2, "w", closefd=False, errors="replace")
    except OSError:
        pass


def _die_with_main_process() -> None:
    """Do not outlive a main process killed without cleaning up (kill -9), even stuck in a parse.

    The fork server exits once every copy of its "alive" pipe is closed; the main process holds
    one and each worker inherits one, so the worker drops its copy, then asks the kernel (Linux
    PR_SET_PDEATHSIG) for SIGKILL when its parent, the fork server, goes away.
    """
    try:
        from multiprocessing import forkserver

        fs = getattr(forkserver, "_forkserver", None)
        fd = getattr(fs, "_forkserver_alive_fd", None)
        if fd is not None:
            os.close(fd)
            fs._forkserver_alive_fd = None
    except Exception:
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            parent = os.getppid()
            ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent went away before the request took effect
                os._exit(0)
        except Exception:
            pass


def _cpu_budget(seconds: float) -> None:
    """Let the kernel end this worker (SIGXCPU) if the next file burns more CPU than its budget.

    The parent's wall-clock timeout normally comes first; this is the net for a worker whose parent
    was killed without cleaning up (a parse stuck in native code holds the GIL, so no Python-level
    watchdog could act, and the fork server lives as long as its workers do).
    """
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(ru.ru_utime + ru.ru_stime + seconds) + 1
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass


def _limit_memory(mem_limit_mb: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    if not mem_limit_mb:
        return
    limit = int(mem_limit_mb) * _MiB
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _result(path, code: str, **params) -> FileResult:
    res = FileResult(str(path))
    res.add(Issue.make(code, **params))
    res.settle()
    return res


# --------------------------------------------------------------------------- parent side


class _Worker:
    __slots__ = ("proc", "conn", "pending", "deadline", "used", "fresh_for", "err_path", "ready")

    def __init__(self, proc, conn, err_path: str):
        self.proc = proc
        self.conn = conn
        self.pending: deque[int] = deque()  # file indexes sent and not yet answered, in order
        self.deadline = math.inf
        self.used = False  # has been given work before (no longer a clean room for a retry)
        self.fresh_for: int | None = None  # the one file this fresh worker was started to retry
        self.err_path = err_path
        self.ready = False  # sent its handshake (imports done, memory limit set)


_stop_registered = False


def _context():
    import multiprocessing as mp

    global _stop_registered
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        # '__main__' too: otherwise every worker re-runs the main script (the xlperf entry point
        # imports typer and rich); multiprocessing needs that main importable either way.
        ctx.set_forkserver_preload(["__main__", *_PRELOAD])
        if not _stop_registered:
            import atexit

            atexit.register(_stop_fork_server)
            _stop_registered = True
        return ctx
    return mp.get_context("spawn")  # pragma: no cover - Windows


def _stop_fork_server() -> None:
    """At exit, stop and reap the fork server instead of leaving it to notice our death.

    It has reaped the workers, so their resource usage (peak memory, CPU) is then accounted to this
    process and to whoever waits for it, like that of ordinary child processes.
    """
    try:
        from multiprocessing import forkserver

        stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
        if stop is not None:
            stop()
    except Exception:
        pass


def _isolation_default() -> bool:
    return os.environ.get("XLPERF_READ_ISOLATION", "1").strip().lower() not in ("0", "off", "no", "false")


def read_isolated(files: list, jobs: int = 1, timeout_s: float | None = None, mem_limit_mb: int | None = None,
                  progress: Callable[[], None] | None = None, *, reader: Callable = read_file,
                  limits: Limits | None = None, isolate: bool | None = None) -> list[FileResult]:
    """Read every file in worker processes; one result per file, in input order.

    *reader* is called as ``reader(path, limits=limits)`` in a worker and must be a module-level
    function (it is pickled by reference). *timeout_s* is the budget of one file; *mem_limit_mb* the
    address-space limit of a worker; both default to *limits* (``Limits.from_env()``).
    *progress* is called once per file as results arrive.
    """
    files = list(files)
    limits = limits or Limits.from_env()
    timeout_s = float(timeout_s if timeout_s is not None else limits.read_timeout_s)
    mem_limit_mb = int(mem_limit_mb if mem_limit_mb is not None else limits.read_mem_mb)
    if not files:
        return []
    if not (_isolation_default() if isolate is None else isolate):
        return _read_in_process(files, reader, limits, progress)
    pool = _Pool(files, max(1, min(int(jobs or 1), len(files))), timeout_s, mem_limit_mb, reader, limits, progress)
    return pool.run()


def _read_in_process(files, reader, limits, progress) -> list[FileResult]:
    out = []
    for f in files:
        try:
            res = reader(f, limits=limits)
        except Exception as exc:
            res = _result(f, "F016", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        out.append(res)
        if progress:
            progress()
    return out


class _Pool:
    def __init__(self, files, jobs, timeout_s, mem_limit_mb, reader, limits, progress):
        self.files = files
        self.jobs = jobs
        self.timeout_s = timeout_s
        self.mem_limit_mb = mem_limit_mb
        self.reader = reader
        self.limits = limits
        self.progress = progress
        self.results: list[FileResult | None] = [None] * len(files)
        self.left = len(files)
        size = max(1, min(_CHUNK_MAX, math.ceil(len(files) / (jobs * 4))))
        idx = list(range(len(files)))
        self.queue: deque[list[int]] = deque(idx[i:i + size] for i in range(0, len(idx), size))
        self.solo: deque[int] = deque()  # files to retry alone in a fresh worker
        self.workers: list[_Worker] = []
        self.ctx = _context()
        self.tmp = tempfile.mkdtemp(prefix="xlperf-workers-")
        self.started = 0
        self.startup_failures = 0

    # -- lifecycle

    def run(self) -> list[FileResult]:
        from multiprocessing.connection import wait

        try:
            while self.left:
                self._dispatch()
                busy = [w for w in self.workers if w.pending]
                if not busy:  # cannot happen while files are left; guard against a silent spin
                    raise RuntimeError("worker pool stalled")
                now = time.monotonic()
                timeout = max(0.0, min(w.deadline for w in busy) - now)
                handles = {}
                for w in busy:
                    handles[w.conn] = w
                    handles[w.proc.sentinel] = w
                ready = wait(list(handles), timeout=timeout)
                seen = set()
                for h in ready:
                    w = handles[h]
                    if id(w) in seen:
                        continue
                    seen.add(id(w))
                    self._drain(w)
                now = time.monotonic()
                for w in list(self.workers):
                    if w.pending and now >= w.deadline:
                        self._drain(w)  # answers that raced the deadline still count
                        if w.pending and w in self.workers:
                            self._lost(w, timed_out=True)
            return self.results  # type: ignore[return-value]
        finally:
            self._shutdown()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _start(self) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        self.started += 1
        err_path = os.path.join(self.tmp, f"w{self.started}.err")
        proc = self.ctx.Process(target=_worker_main, name=f"xlperf-reader-{self.started}",
                                args=(child, self.mem_limit_mb, self.reader, self.limits, err_path,
                                      2 * self.timeout_s + 5), daemon=True)
        proc.start()
        child.close()
        w = _Worker(proc, parent, err_path)
        self.workers.append(w)
        return w

    def _retire(self, w: _Worker) -> None:
        self.workers.remove(w)
        try:
            w.conn.send(None)
        except (OSError, EOFError, BrokenPipeError):
            pass
        w.conn.close()
        w.proc.join(timeout=5)
        if w.proc.exitcode is None:
            w.proc.kill()
            w.proc.join()
        _unlink(w.err_path)

    def _shutdown(self) -> None:
        for w in list(self.workers):
            if w.pending:  # interrupted (Ctrl-C, an error): do not wait for a worker that may be stuck
                w.proc.kill()
                self._reap(w)
            else:
                self._retire(w)

    def _reap(self, w: _Worker) -> None:
        if w in self.workers:
            self.workers.remove(w)
        w.conn.close()
        if w.proc.exitcode is None:
            w.proc.kill()
        w.proc.join()
        _unlink(w.err_path)

    # -- scheduling

    def _send(self, w: _Worker, idxs: list[int]) -> None:
        w.pending.extend(idxs)
        w.used = True
        w.deadline = time.monotonic() + self.timeout_s + (0 if w.ready else _STARTUP_S)
        try:
            w.conn.send([(i, self.files[i]) for i in idxs])
        except (OSError, EOFError, BrokenPipeError):
            self._lost(w, timed_out=False)

    def _dispatch(self) -> None:
        for w in [w for w in self.workers if not w.pending]:
            if self.solo or not self.queue:
                self._retire(w)  # a retry needs a clean room; with no work left, the slot is freed
            else:
                self._send(w, self.queue.popleft())
        while len(self.workers) < self.jobs and (self.solo or self.queue):
            w = self._start()
            if self.solo:
                i = self.solo.popleft()
                w.fresh_for = i
                self._send(w, [i])
            else:
                self._send(w, self.queue.popleft())

    def _drain(self, w: _Worker) -> None:
        """Collect every answer waiting on *w*'s pipe; handle its death if the pipe is closed."""
        eof = False
        while True:
            try:
                if not w.conn.poll():
                    break
                data = w.conn.recv_bytes()
            except (EOFError, OSError):
                eof = True
                break
            if data == _READY:
                w.ready = True
                self.startup_failures = 0
                w.deadline = time.monotonic() + self.timeout_s
                continue
            idx, res = pickle.loads(data)
            if w.pending and w.pending[0] == idx:
                w.pending.popleft()
            else:  # out of order cannot happen with one sequential worker; stay correct anyway
                try:
                    w.pending.remove(idx)
                except ValueError:
                    continue
            self._done(idx, res)
            w.deadline = time.monotonic() + self.timeout_s
        if not eof and w.proc.exitcode is None:
            return
        if w.pending:
            w.proc.join(timeout=1)
            self._lost(w, timed_out=False)
        elif w in self.workers:
            self._reap(w)

    def _done(self, idx: int, res: FileResult) -> None:
        if self.results[idx] is None:
            self.left -= 1
            if self.progress:
                self.progress()
        self.results[idx] = res

    def _lost(self, w: _Worker, timed_out: bool) -> None:
        """*w* died or overran: blame only the file it was on, and only if it fails alone."""
        if w.proc.exitcode is None:
            w.proc.kill()
        w.proc.join()
        detail = _crash_detail(w.err_path)
        if not w.ready:  # died before touching a file: the environment is at fault, not the input
            self.startup_failures += 1
            if w.fresh_for is not None:
                self.solo.appendleft(w.fresh_for)
            else:
                self.queue.appendleft(list(w.pending))
            w.pending.clear()
            self._reap(w)
            if self.startup_failures >= 3:
                raise RuntimeError(f"reader worker processes cannot start (exit code {w.proc.exitcode}"
                                   + (f": {detail}" if detail else "") + ")")
            return
        culprit, rest = w.pending[0], list(w.pending)[1:]
        w.pending.clear()
        self._reap(w)
        if rest:
            self.queue.appendleft(rest)
        if w.fresh_for == culprit:
            self._done(culprit, self._given_up(culprit, w.proc.exitcode, timed_out, detail))
        else:
            self.solo.append(culprit)

    def _given_up(self, idx: int, exitcode: int | None, timed_out: bool, detail: str) -> FileResult:
        path = self.files[idx]
        zh, en = _reason(exitcode, timed_out, self.timeout_s, self.mem_limit_mb, detail)
        return _result(path, "F017", name=Path(path).name, reason_zh=zh, reason_en=en,
                       exitcode=exitcode, detail=detail)


def _reason(exitcode: int | None, timed_out: bool, timeout_s: float, mem_mb: int, detail: str) -> tuple[str, str]:
    secs = f"{timeout_s:g}"
    if timed_out:
        return (f"超过 {secs} 秒仍未读完（读取进程已被终止）", f"did not finish within {secs} s (reader process killed)")
    memory = exitcode == 99 or "memory allocation" in detail or "MemoryError" in detail
    sig = ""
    if exitcode is not None and exitcode < 0:
        try:
            sig = signal.Signals(-exitcode).name
        except ValueError:
            sig = f"signal {-exitcode}"
    if sig == "SIGXCPU":
        return ("CPU 时间超限（读取进程已被终止）", "used up its CPU time budget (reader process ended)")
    tail = f"：{detail}" if detail else ""
    tail_en = f": {detail}" if detail else ""
    if memory:
        return (f"读取进程内存超限（上限 {mem_mb} MB{('，' + sig) if sig else ''}）{tail}",
                f"the reader process ran out of memory (limit {mem_mb} MB{(', ' + sig) if sig else ''}){tail_en}")
    if sig:
        return (f"读取进程崩溃（{sig}）{tail}", f"crashed the reader process ({sig}){tail_en}")
    return (f"读取进程意外退出（退出码 {exitcode}）{tail}", f"the reader process exited unexpectedly (exit code {exitcode}){tail_en}")


def _crash_detail(err_path: str) -> str:
    """The first meaningful line a dying worker wrote to stderr (e.g. Rust's 'memory allocation … failed')."""
    try:
        with open(err_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 8192))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    keys = ("memory allocation", "panicked", "Fatal Python error", "Error", "error")
    for ln in lines:
        if any(k in ln for k in keys) and not ln.startswith(("Traceback", "File ")):
            return ln[:160]
    return lines[-1][:160] if lines else ""


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
