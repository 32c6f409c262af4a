"""Turn the core's trace events into what the widget draws: a graph and an event stream.

A :class:`recorder` is a trace sink (:func:`senderlab.add_trace_sink`) for one run. Its
``sink`` only appends the event (it may be called on any thread, and must stay cheap:
``bench/tracing.py`` measures it); :meth:`recorder.drain` then, on the kernel's thread,

* keeps only this run's operations: the root connected while :meth:`recorder.connecting`
  was active on the running thread, and everything connected under it (another cell's
  pipelines, traced at the same time, are left out);
* grows the graph: one node per operation, its edge going to the operation that
  connected it (the consumer: completions flow along it *forward*, receivers and stop
  requests *backward*). Children connected after their parent started are *dynamic*
  (the sender a ``let_*`` function returned, a task's awaits, a ``repeat``'s next
  round); a task's children are its awaits, numbered in order;
* folds what would not fit on a slide: past :data:`MAX_CHILDREN` children of one node,
  :data:`MAX_DEPTH` levels or :data:`MAX_NODES` nodes, operations share one "+N more"
  node per parent, so a 10,000-event ``repeat_n`` stays a picture;
* groups the iterations of a loop: a dynamic child connected under a parent that already
  had a dynamic child of the same algorithm (the next round of ``repeat_effect_until``,
  ``repeat_n``, ``retry``; a task awaiting the same kind of sender again) is an iteration
  of the first one, and each of its operations maps to the matching operation of the first
  round (``rep``). The picture draws a loop collapsed, as one round with a count, and
  expanded on click (two layouts: ``ccol``/``crow`` and ``col``/``row``);
* encodes each event as one :data:`RECORD` (28 bytes): time, node, kind, thread lane,
  payload and scheduler strings (indices into a string table; the scheduler only for
  connect and start, where the receiver's environment names it), operation;
* keeps at most ``max_events`` (default :data:`MAX_EVENTS`) records: past the cap only
  the completions of the top-level operation are recorded (the picture still ends with
  the result) and the rest are counted by kind (``truncated``), so a run of a million
  events costs neither the kernel's memory nor the notebook's size.

:meth:`recorder.table` gives the events as a :class:`trace_table` (``--trace``).
"""

from __future__ import annotations

import html
import struct
import threading
from typing import Any

__all__ = ["recorder", "trace_table", "KINDS", "RECORD", "MAX_NODES", "MAX_CHILDREN", "MAX_DEPTH", "MAX_EVENTS"]

KINDS = ("connect", "start", "set_value", "set_error", "set_stopped", "stop_request")
_KIND = {k: i for i, k in enumerate(KINDS)}
#: One event: ms since the first event (float32), node, kind, lane, payload string,
#: scheduler string, operation number (int32 each; -1 for no string).
RECORD = struct.Struct("<fiiiiii")

MAX_NODES = 240
MAX_CHILDREN = 12
MAX_DEPTH = 24
_PILE = 1 << 16  # events the sink lets pile up on the kernel's thread before processing them

#: Rounds from which a loop is drawn collapsed (two rounds may well be a let_value's
#: source and its inner sender of the same algorithm).
LOOP_ROUNDS = 3
#: Records a run keeps by default (``%%sender --max-events N`` changes it per run).
MAX_EVENTS = 50_000


class _node:
    __slots__ = ("index", "op", "algorithm", "parent", "depth", "kind", "children", "fold", "folded", "seq",
                 "awaits", "channel", "payload", "sender", "label", "shares", "rep", "group", "iterations", "heads")

    def __init__(self, index, op, algorithm, parent, depth, kind) -> None:
        self.index = index
        self.op = op
        self.algorithm = algorithm
        self.parent = parent
        self.depth = depth
        self.kind = kind  # "consumer", "static", "dynamic", "await" or "fold"
        self.children: list[_node] = []
        self.fold: _node | None = None  # this node's "+N more" child, once it has one
        self.folded = 0  # operations folded into this (fold) node
        self.seq = 0  # an await's position in its task
        self.awaits = 0  # a task's awaits so far
        self.channel: str | None = None  # how the operation completed (final state, for tests and the table)
        self.payload: str | None = None
        self.sender: Any = None  # the sender connected, until its label is made
        self.label: str | None = None
        self.shares: _node | None = None  # a split sharing its source with this earlier split node
        self.rep: _node = self  # the node of the loop's first round this one is drawn on, collapsed
        self.group: _node | None = None  # the first round's top node, for a node of a later round
        self.iterations = 0  # a loop's first round: how many rounds it stands for
        self.heads: dict[str, _node] | None = None  # algorithm -> this node's first dynamic child of that algorithm


def _rep(node) -> _node:
    """The node a collapsed picture draws ``node`` on (nested loops: followed to the end)."""
    while node.rep is not node and node.group.iterations >= LOOP_ROUNDS:
        node = node.rep
    return node


class recorder:
    """The events of one ``%%sender`` run, as a graph and an encoded event stream."""

    RECORD_SIZE = RECORD.size

    def __init__(self, consumer: str = "sync_wait", max_events: int | None = None) -> None:
        if max_events is not None and (not isinstance(max_events, int) or max_events < 1):
            raise ValueError(f"max_events must be a positive int, not {max_events!r}")
        self.max_events = MAX_EVENTS if max_events is None else max_events
        self.truncated: dict[str, int] = {}  # kind -> events past the cap, not recorded
        self._raw: list[Any] = []  # trace_events as the sink saw them, in order
        self._roots: set[int] = set()  # ops connected with no parent while connecting() was active
        self._tid: int | None = None
        self._home = threading.get_ident()
        self._drained = 0
        self._op_count = 0
        self._cap_op: int | None = None  # operations numbered up to here when the cap was reached
        self.nodes = [_node(0, None, consumer, None, 0, "consumer")]
        self._vis: dict[int, _node] = {}  # op id -> node
        self._started: set[int] = set()  # ops started (a child connected later is dynamic)
        self.ops: dict[int, int] = {}  # op id -> operation number (1, 2, ... in connect order)
        self.events: list[tuple[float, Any]] = []  # (ms, trace_event) of this run, for the table
        self.records = bytearray()
        self.strings: list[str] = []
        self._string_index: dict[str, int] = {}
        self.lanes: list[str] = []
        self._lane_index: dict[str, int] = {}
        self._t0: int | None = None
        self._splits: dict[int, tuple[_node, Any]] = {}  # id(split sender) -> (its first node, the sender, kept alive)
        self.graph_version = 0

    # -- collecting (any thread) --------------------------------------------------------
    def sink(self, ev: Any) -> None:
        """The trace sink: cheap, any thread. On the thread that made the recorder (the
        kernel's) it processes what has piled up now and then, so a long run that nothing
        drains meanwhile (``sync_wait`` blocking the thread) keeps few events alive."""
        if ev.parent is None and ev.kind == "connect" and self._tid == threading.get_ident():
            self._roots.add(ev.op)
        raw = self._raw
        raw.append(ev)
        if len(raw) > _PILE and threading.get_ident() == self._home:
            self.drain()

    def connecting(self) -> Any:
        """Context manager: a parentless connect on this thread inside it is this run's root."""
        rec = self

        class _ctx:
            def __enter__(self):
                rec._tid = threading.get_ident()

            def __exit__(self, *exc):
                rec._tid = None

        return _ctx()

    # -- processing (the kernel's thread) -------------------------------------------------
    def drain(self) -> tuple[int, bool]:
        """Process the events collected since the last call. Returns (index of the first
        new record, whether the graph changed)."""
        first = len(self.records) // RECORD.size
        version = self.graph_version
        raw = self._raw
        end = len(raw)
        for i in range(self._drained, end):
            self._process(raw[i])
        self._drained = end
        if end > 4096 and end == len(raw):  # keep memory bounded on long live runs
            del raw[:end]
            self._drained = 0
        return first, self.graph_version != version

    @property
    def count(self) -> int:
        return len(self.records) // RECORD.size

    def _string(self, text) -> int:
        if text is None:
            return -1
        i = self._string_index.get(text)
        if i is None:
            i = self._string_index[text] = len(self.strings)
            self.strings.append(text)
        return i

    def _lane(self, thread) -> int:
        i = self._lane_index.get(thread)
        if i is None:
            i = self._lane_index[thread] = len(self.lanes)
            self.lanes.append(thread)
            self.graph_version += 1
        return i

    def _process(self, ev) -> None:
        op = ev.op
        kind = ev.kind
        if kind == "connect":
            if op in self._roots:
                parent = self.nodes[0]
            elif ev.parent in self._vis:
                parent = self._vis[ev.parent]
            else:
                return  # not this run's operation
            self._op_count += 1
            self.ops[op] = self._op_count
            node = self._vis[op] = self._place(op, ev.algorithm, parent, ev.parent in self._started)
            sender = getattr(ev, "sender", None)
            if node.op == op and sender is not None:
                node.sender = sender
                if ev.algorithm == "split":  # the same split sender connected again: one shared source
                    first = self._splits.setdefault(id(sender), (node, sender))[0]
                    if first is not node:
                        node.shares = first
                        self.graph_version += 1
        elif op not in self._vis:
            return
        node = self._vis[op]
        if kind == "start":
            self._started.add(op)
        elif kind.startswith("set_") and node.kind != "fold":
            node.channel = kind[4:]
            node.payload = ev.payload
        if self._t0 is None:
            self._t0 = ev.ns
        if len(self.records) >= self.max_events * RECORD.size and node.parent is not self.nodes[0]:
            self.truncated[kind] = self.truncated.get(kind, 0) + 1
            if self._cap_op is None:
                self._cap_op = self._op_count
            if kind.startswith("set_"):  # done: no child can connect to it any more
                del self._vis[op]
                self._started.discard(op)
                if self.ops[op] > self._cap_op:  # (an earlier one numbers rows of the table)
                    del self.ops[op]
            return
        t = (ev.ns - self._t0) / 1e6
        lane = self._lane(ev.thread)
        # where it completed shows as the thread lane; the scheduler (a walk through the
        # sender's attributes per completion) is looked up only for the table
        sch = self._string(ev.scheduler) if kind == "connect" or kind == "start" else -1
        self.records += RECORD.pack(t, node.index, _KIND[kind], lane, self._string(ev.payload), sch, self.ops[op])
        self.events.append((t, ev))

    def _place(self, op, algorithm, parent, dynamic) -> _node:
        """The node for a newly connected operation: a new one, or a fold node."""
        if parent.kind == "fold":
            parent.folded += 1
            return parent
        if (len(parent.children) >= MAX_CHILDREN - 1 or parent.depth >= MAX_DEPTH
                or len(self.nodes) >= MAX_NODES):
            fold = parent.fold
            if fold is None:
                fold = parent.fold = self._new(None, "+more", parent, "fold")
                heads = parent.heads or {}
                if dynamic and algorithm in heads:  # the rest of a loop's rounds
                    fold.rep = fold.group = heads[algorithm]
            if dynamic and parent.heads and algorithm in parent.heads:
                head = parent.heads[algorithm]
                head.iterations = max(head.iterations, 1) + 1
            fold.folded += 1
            return fold
        kind = "await" if dynamic and parent.algorithm == "task" else "dynamic" if dynamic else "static"
        node = self._new(op, algorithm, parent, kind)
        if kind == "await":
            node.seq = parent.awaits
            parent.awaits += 1
        heads = parent.heads
        if heads is None:
            heads = parent.heads = {}
        head = heads.setdefault(algorithm, node)
        if dynamic and head is not node and parent.rep is parent:  # the next round of a loop
            node.rep = node.group = head
            head.iterations = max(head.iterations, 1) + 1
            return node
        if parent.rep is not parent:  # inside a later round: the matching node of the first
            node.rep = self._match(parent.rep, len(parent.children) - 1, algorithm)
            node.group = parent.group
        return node

    @staticmethod
    def _match(first, position, algorithm) -> _node:
        kids = first.children
        if position < len(kids) and kids[position].algorithm == algorithm:
            return kids[position]
        return first

    def _new(self, op, algorithm, parent, kind) -> _node:
        node = _node(len(self.nodes), op, algorithm, parent, parent.depth + 1, kind)
        self.nodes.append(node)
        parent.children.append(node)
        self.graph_version += 1
        return node

    # -- what the widget gets -----------------------------------------------------------
    def graph(self) -> dict:
        """Nodes with their layout: ``col`` counts from the sources on the left to the
        consumer on the right, ``row`` is the leaf order (a parent sits between its first
        and last child), so a chain is a line and ``when_all`` a fan-in."""
        nodes = self.nodes
        col, row, cols, rows = self._layout(lambda n: True)
        ccol, crow, ccols, crows = self._layout(lambda n: _rep(n) is n)
        return {
            "alg": [n.algorithm for n in nodes],
            "parent": [n.parent.index if n.parent is not None else -1 for n in nodes],
            "kind": [n.kind for n in nodes],
            "op": [self.ops.get(n.op, 0) for n in nodes],
            "seq": [n.seq for n in nodes],
            "label": [self._label(n) for n in nodes],
            # [split node, the node it shares: the first split's source, once connected]
            "share": [[n.index, (n.shares.children or [n.shares])[0].index] for n in nodes if n.shares is not None],
            "col": col,
            "row": row,
            "cols": cols,
            "rows": rows,
            # the loops collapsed: each node drawn on its first round's (rep), a round's
            # first node counting the rounds (iters)
            "rep": [_rep(n).index for n in nodes],
            "iters": [n.iterations if n.iterations >= LOOP_ROUNDS else 0 for n in nodes],
            "ccol": ccol,
            "crow": crow,
            "ccols": ccols,
            "crows": crows,
            "lanes": list(self.lanes),
            "truncated": dict(self.truncated),
            "max_events": self.max_events,
        }

    def _layout(self, shown) -> tuple[list, list, int, int]:
        """(col, row, cols, rows) of the nodes ``shown`` accepts, a node not shown placed
        where its ``rep`` is."""
        nodes = self.nodes
        maxdepth = max(n.depth for n in nodes if shown(n))
        rows = [0.0] * len(nodes)
        next_row = 0
        # iterative post-order: leaves take consecutive rows, parents centre on children
        stack = [(nodes[0], False)]
        while stack:
            n, done = stack.pop()
            kids = [c for c in n.children if shown(c)]
            if done:
                rows[n.index] = (rows[kids[0].index] + rows[kids[-1].index]) / 2
                continue
            if not kids:
                rows[n.index] = next_row
                next_row += 1
                continue
            stack.append((n, True))
            for c in reversed(kids):
                stack.append((c, False))
        cols = [maxdepth - n.depth for n in nodes]
        for n in nodes:
            if not shown(n):
                r = _rep(n)
                cols[n.index], rows[n.index] = cols[r.index], rows[r.index]
        return cols, rows, maxdepth + 1, max(next_row, 1)

    @staticmethod
    def _label(node) -> str:
        """The sender, as its repr says (shortened), for the hover text."""
        if node.label is None:
            sender, node.sender = node.sender, None
            try:
                text = repr(sender) if sender is not None else ""
            except Exception:
                text = ""
            node.label = text if len(text) <= 90 else text[:89] + "…"
        return node.label

    def error_chain(self) -> list:
        """The async stack trace: the node whose operation first completed with
        ``set_error``, then each consumer up the chain while the error travelled on
        (the first one that completed otherwise, the handler, ends it), up to the
        consumer of the whole pipeline."""
        origin = next((n for n in self.nodes if n.channel == "error" and not any(
            c.channel == "error" for c in n.children)), None)
        if origin is None:
            return []
        chain = [origin.index]
        n = origin.parent
        while n is not None:
            chain.append(n.index)
            if n.kind != "consumer" and n.channel != "error":
                break
            n = n.parent
        return chain

    def table(self) -> "trace_table":
        ops = self.ops
        return trace_table(
            {"t_ms": round(t, 3), "op": ops[ev.op], "parent": ops.get(ev.parent) if ev.parent is not None else None,
             "kind": ev.kind, "algorithm": ev.algorithm, "payload": ev.payload, "scheduler": ev.scheduler,
             "thread": ev.thread} for t, ev in self.events)


class trace_table(list):
    """The events of a ``%%sender`` run: a list of dicts (``t_ms``, ``op``, ``parent``,
    ``kind``, ``algorithm``, ``payload``, ``scheduler``, ``thread``), shown as a table.
    Operations are numbered 1, 2, ... in connect order; ``parent`` is the number of
    the operation that connected it (``None``: the consumer)."""

    COLUMNS = ("t_ms", "op", "parent", "kind", "algorithm", "payload", "scheduler", "thread")

    def column(self, name: str) -> list:
        return [row[name] for row in self]

    #: Columns of numbers, right-aligned; the others are text, left-aligned whatever the
    #: page's stylesheet says (JupyterLab right-aligns every rendered table cell).
    NUMERIC = frozenset(("t_ms", "op", "parent"))

    def _cell(self, tag: str, c: str, text: str) -> str:
        align = "right" if c in self.NUMERIC else "left"
        return f"<{tag} style='text-align:{align}'>{html.escape(text)}</{tag}>"

    def _repr_html_(self) -> str:
        head = "".join(self._cell("th", c, c) for c in self.COLUMNS)
        body = "".join(
            "<tr>" + "".join(self._cell("td", c, "" if r[c] is None else str(r[c])) for c in self.COLUMNS)
            + "</tr>" for r in self[:2000])
        more = f"<p>… and {len(self) - 2000} more events</p>" if len(self) > 2000 else ""
        return f"<table class='senderlab-trace'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"

    def __repr__(self) -> str:
        lines = [f"{'t_ms':>9} {'op':>4} {'parent':>6}  {'kind':<12} {'algorithm':<14} payload / thread"]
        for r in self:
            parent = "" if r["parent"] is None else r["parent"]
            lines.append(f"{r['t_ms']:>9.3f} {r['op']:>4} {parent:>6}  {r['kind']:<12} {r['algorithm']:<14} "
                         f"{r['payload'] or ''} {r['thread']}".rstrip())
        return "\n".join(lines)
