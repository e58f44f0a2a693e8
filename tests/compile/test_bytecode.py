"""The bytecode writer (diffi/compile/bytecode.py): functions assembled without Python's
compiler compute bit for bit what the source writer's do, with a correct stack size,
line table and instruction encoding."""
from __future__ import annotations

import dis
import math
import traceback

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import diffi
from diffi import table
from diffi.table import reader
from diffi.compile import bytecode, scalar, writers
from diffi.compile.bytecode import BytecodeWriter, instruction
from diffi.compile.scalar import Compiled, compile_function
from diffi.compile.writers import Retrace

pytestmark = pytest.mark.skipif(
    not bytecode.SUPPORTED, reason="the bytecode writer is for CPython 3.11; other "
    "versions use the source writer, which test_compiler.py runs everywhere")


def writer(params=("x",)) -> BytecodeWriter:
    return BytecodeWriter(list(params), {"_Retrace": Retrace})


def simulated_stack(code) -> int:
    """The deepest the stack gets, from each instruction's documented effect (the only
    jumps are guards, whose skipped body leaves the stack as it found it)."""
    depth = deepest = 0
    for ins in dis.get_instructions(code):
        if ins.opcode in dis.hasjrel or ins.opcode in dis.hasjabs:
            depth += dis.stack_effect(ins.opcode, ins.arg, jump=False)
        elif ins.opname != "RESUME":
            depth += dis.stack_effect(ins.opcode, ins.arg)
        deepest = max(deepest, depth)
    return deepest


# Instructions ----------------------------------------------------------------------------

@pytest.mark.parametrize("index", [0, 255, 256, 65535, 65536, 70000, (1 << 24) + 5])
def test_arguments_past_a_byte_take_extended_arg_prefixes_as_dis_reads_them(index):
    code = instruction("LOAD_FAST", index)
    assert len(code) == 2 * (1 + (index > 255) + (index > 65535) + (index > 0xFFFFFF))
    args = [code[k + 1] for k in range(0, len(code), 2)]
    value = 0
    for byte in args:
        value = value << 8 | byte
    assert value == index


def test_inline_caches_follow_the_instructions_that_have_them():
    assert instruction("BINARY_OP", 0) == bytes((dis.opmap["BINARY_OP"], 0, 0, 0))
    assert len(instruction("LOAD_GLOBAL", 3)) == 2 * 6  # 5 cache entries
    assert len(instruction("CALL", 1)) == 2 * 5


def test_a_function_with_seventy_thousand_locals_reads_the_right_ones():
    w = writer(["v0"])
    for k in range(1, 70001):
        w.arg(f"n{k}")  # numbered in the order met
    lines = [w.assign("n300", w.ap(table.MUL, "v0", 2.0)),
             w.assign("n70000", w.ap(table.ADD, "n300", 1.0))]
    f = w.function("f", ["v0"], lines, "n70000")
    assert f(3.0) == 7.0
    assert f.__code__.co_nlocals == 70001
    loads = [i.argval for i in dis.get_instructions(f) if i.opname == "LOAD_FAST"]
    stores = [i.argval for i in dis.get_instructions(f) if i.opname == "STORE_FAST"]
    assert loads == ["v0", "n300", "n70000"] and stores == ["n300", "n70000"]


def test_constants_keep_sign_type_and_non_finite_values():
    w = writer()
    assert w.literal(0.0) != w.literal(-0.0)
    assert w.literal(1.0) != w.literal(True)
    f = w.function("f", ["x"], [], w.pack(w.ap(table.MUL, "x", -0.0), True, 1.0,
                                           math.inf, math.nan, w.ap(table.GT, "x", 0.0)))
    product, true, one, inf, nan, test = f(2.0)
    assert math.copysign(1.0, product) == -1.0
    assert true is True and type(one) is float and inf == math.inf and math.isnan(nan)
    assert test is True


def test_a_guard_raises_retrace_only_when_its_test_says_so():
    w = writer()
    lines = [w.assign("c", w.ap(table.GT, "x", 0.0)), w.guard("c", raise_when=False)]
    f = w.function("f", ["x"], lines, w.ap(table.NEG, "x"))
    assert f(2.0) == -2.0
    with pytest.raises(Retrace):
        f(-1.0)


def test_every_instruction_has_a_line_and_tracebacks_name_the_tape():
    w = writer()
    f = w.function("f", ["x"], [w.assign("y", w.ap(table.DIV, 1.0, "x"))], "y")
    code = f.__code__
    covered = sum(end - start for start, end, line in code.co_lines() if line == 1)
    assert covered == len(code.co_code)
    with pytest.raises(ZeroDivisionError) as caught:
        f(0.0)
    frame = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert (frame.filename, frame.lineno, frame.name) == ("<diffi tape>", 1, "f")


# Compiled tapes: the same bits as the source writer's ------------------------------------

UNARY = ["sin({u})", "exp(tanh({u}))", "-({u})", "({u})^2", "sqrt(1 + ({u})^2)",
         "sigmoid({u})", "atan({u})", "+({u})"]
BINARY = ["({u}) + ({v})", "({u}) - ({v})", "({u})*({v})", "({u})/(1 + ({v})^2)",
          "max({u}, {v})", "hypot({u}, {v})", "atan2({u}, 2 + cos({v}))",
          "(if ({u}) > ({v}) then ({u})*2 else ({v}) - 1)"]


@st.composite
def bodies(draw, depth: int = 3) -> str:
    """Expressions in x and y, some with values used more than once (a block)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["x", "y", "x", "0.5", "3"]))
    kind = draw(st.integers(0, 2))
    u = draw(bodies(depth - 1))
    if kind == 0:
        return draw(st.sampled_from(UNARY)).format(u=u)
    v = draw(bodies(depth - 1))
    if kind == 1:
        return draw(st.sampled_from(BINARY)).format(u=u, v=v)
    name = f"a{depth}"
    return f"{{ {name} = {u}; {name}*({v}) + {name} + {name} }}"


def results(compiled: Compiled, point):
    out = []
    for call in (lambda: compiled.value(*point), lambda: compiled.value_and_grad(*point),
                 lambda: compiled.value_and_tangent(*point, 1.0, -0.5)):
        try:
            out.append(repr(call()))  # repr: nan equals nan, -0.0 differs from 0.0
        except (Retrace, ArithmeticError, ValueError) as error:
            out.append(type(error).__name__)
    return out


POINTS = st.tuples(st.floats(-2, 2), st.floats(-2, 2))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies(), traced_at=POINTS, points=st.lists(POINTS, min_size=1, max_size=3))
def test_random_functions_compile_to_the_same_results_in_both_writers(
        body, traced_at, points):
    it = diffi.Interpreter(warn=lambda message, span: None)
    it.run(f"F(x, y) = x + y + {body}")
    fn = it.globals["F"].node.value
    compiled, results_of, kinds = {}, {}, {}
    for force in (False, True):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(scalar, "FORCE_SOURCE", force)
            it.evaluator.begin_statement()
            compiled[force] = compile_function(it.evaluator, fn, traced_at)
            results_of[force] = [results(compiled[force], p) for p in [traced_at] + points]
            kinds[force] = type(compiled[force].writer())
    assert kinds == {False: BytecodeWriter, True: writers.CodeWriter}
    assert results_of[False] == results_of[True]
    try:
        value, grads = compiled[False].value_and_grad(*traced_at)
    except (Retrace, ArithmeticError, ValueError):
        return
    at = dict(zip("xy", traced_at))
    traced = it.grad("F(x, y)", wrt=["x", "y"], at=at)  # the interpreter's reverse mode
    assert grads == pytest.approx(tuple(traced), rel=1e-12, abs=1e-12)
    for name in ("value", "value_and_grad", "value_and_tangent"):
        code = getattr(compiled[False], name).__code__
        assert code.co_stacksize == simulated_stack(code), name


RULED = [p for p in table.TABLE.values()
         if p.rule.kind == "partials" and (p.scalar is not None or p in writers.TEMPLATES)]


OPERANDS = {"names": ("a", "b"), "constant-name": (0.375, "b"), "name-constant": ("a", 0.375)}
CASES = [pytest.param(prim, operands, id=f"{prim.name}-{case}")
         for prim in RULED for case, operands in OPERANDS.items()
         if prim.arity == 2 or case != "name-constant"]  # (unary: the same as names)


@pytest.mark.parametrize("prim, operands", CASES)
def test_a_filled_rule_template_has_the_stack_it_needs_and_the_source_writers_value(
        prim, operands):
    operands, params = operands[:prim.arity], ["a", "b", "y", "seed"]
    at = {"a": 0.625, "b": 1.5, "seed": 1.25}
    values = [at.get(o, o) for o in operands]
    at["y"] = prim.scalar(*values) if prim.scalar else 0.5
    partials = reader.elementwise_partials(prim, reader.NUMBERS, *values, at["y"])
    for k, term in enumerate(scalar._rules(writer(params))[prim]):
        # a rule with no code is a zero partial (None) or the seed itself (ONE)
        if term is None:
            assert partials[k] is None, (prim.name, k)
            continue
        if term is writers.ONE:
            assert partials[k] == 1.0, (prim.name, k)
            continue
        made = writer(params)
        term = scalar._rules(made)[prim][k]
        # inside a sum, so that the template's depth is added to what is on the stack
        expr = made.ap(table.ADD, "seed", term(*operands, "y", "seed"))
        f = made.function("f", params, [made.assign("r", expr)], "r")
        assert f.__code__.co_stacksize == simulated_stack(f.__code__), (prim.name, k)
        source = writers.CodeWriter()
        text = source.ap(table.ADD, "seed",
                         scalar._rules(source)[prim][k](*operands, "y", "seed"))
        expected = source.function("f", params, [source.assign("r", text)], "r")
        args = [at[p] for p in params]
        assert f(*args) == expected(*args), (prim.name, k)


def test_the_gradient_of_x_plus_x_counts_the_input_twice():
    # `out = a + a`: a shares the output's adjoint for its first use; its second must go
    # to a variable of its own, not double the one the node still reads
    it = diffi.Interpreter()
    it.run("D(x) = { a = sin(x); a + a }")
    fn = it.globals["D"].node.value
    it.evaluator.begin_statement()
    value, (gradient,) = compile_function(it.evaluator, fn, (0.3,)).value_and_grad(0.3)
    assert value == 2 * math.sin(0.3) and gradient == pytest.approx(2 * math.cos(0.3), 1e-15)


def test_code_grows_linearly_with_the_tape():
    sizes = []
    for steps in (2000, 4000):
        body = "; ".join(f"a{k} = a{k - 1} + sin(a{k - 1})*0.0001" for k in range(1, steps))
        it = diffi.Interpreter()
        it.run(f"C(x) = {{ a0 = x; {body}; a{steps - 1} }}")
        it.evaluator.begin_statement()
        compiled = compile_function(it.evaluator, it.globals["C"].node.value, (0.5,))
        compiled.value_and_grad(0.5)
        sizes.append(len(compiled.value_and_grad.__code__.co_code))
    assert 1.9 < sizes[1] / sizes[0] < 2.1


def test_each_function_numbers_only_its_own_locals():
    it = diffi.Interpreter()
    it.run("E(x) = { a = sin(x); b = a*x; exp(b) + a }")
    it.evaluator.begin_statement()
    compiled = compile_function(it.evaluator, it.globals["E"].node.value, (0.5,))
    compiled.value_and_grad(0.5)  # the gradient first: its adjoints are locals
    compiled.value(0.5)
    value_locals = compiled.value.__code__.co_varnames
    gradient_locals = compiled.value_and_grad.__code__.co_varnames
    assert value_locals[:2] == ("v0", "d0") and len(value_locals) == 4  # a and the output
    assert not any(name.startswith("g") for name in value_locals)
    assert any(name.startswith("g") for name in gradient_locals)
