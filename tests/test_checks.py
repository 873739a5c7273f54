"""Pruebas de course_lib.checks: comprobaciones con mensajes en español y herramientas de las pruebas ocultas."""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_lib
from course_lib import attention, checks, mistakes
from course_lib.checks import CheckError, ForbiddenCallError
from course_lib.mistakes import forbidden

SDPA = F.scaled_dot_product_attention  # el objeto original, guardado antes de cualquier forbid()
REFERENCE_SDPA = attention.scaled_dot_product_attention


def assert_message(error: pytest.ExceptionInfo, *parts: str) -> str:
    """Comprueba que el mensaje de la excepción contiene cada uno de ``parts`` y lo devuelve."""
    message = str(error.value)
    for part in parts:
        assert part in message, f"el mensaje debería contener {part!r}:\n{message}"
    return message


# --- CheckError ------------------------------------------------------------------------------------


def test_check_error_is_assertion_error():
    """CheckError es una AssertionError (nbgrader la cuenta como prueba fallida)."""
    assert issubclass(CheckError, AssertionError)
    assert issubclass(ForbiddenCallError, RuntimeError)


def test_check_error_render_traceback_contains_message():
    """_render_traceback_ devuelve líneas de texto que incluyen el mensaje completo."""
    error = CheckError("✗ algo falló\n  Pista: mira aquí")
    lines = error._render_traceback_()
    assert isinstance(lines, list) and all(isinstance(line, str) for line in lines)
    joined = "\n".join(lines)
    assert "algo falló" in joined and "Pista: mira aquí" in joined, "las líneas deben incluir el mensaje"
    assert "CheckError" in joined, "las líneas deben nombrar el tipo de error"


def test_fail_without_values_or_hint():
    """fail() sin esperado/obtenido ni pista solo da la descripción."""
    with pytest.raises(CheckError) as info:
        checks.fail("algo concreto")
    message = assert_message(info, "algo concreto")
    assert "esperado" not in message and "obtenido" not in message and "Pista" not in message


def test_fail_abridges_long_tensors():
    """Un tensor largo se abrevia en el mensaje (forma y primeros valores), no se imprime entero."""
    with pytest.raises(CheckError) as info:
        checks.fail("x", torch.arange(1000.0), torch.zeros(3), "revisa x")
    message = assert_message(info, "esperado", "obtenido", "(1000,)", "…", "Pista: revisa x")
    assert "999" not in message, "no deben aparecer todos los valores"


def test_ok_prints_success(capsys):
    """ok() imprime el mensaje con una marca de éxito."""
    checks.ok("todo bien")
    assert capsys.readouterr().out.strip() == "✓ todo bien"


# --- check_type / check_shape / check_finite ---------------------------------------------------------


def test_check_type_passes():
    """Un valor del tipo correcto (o de uno de la tupla) pasa sin error."""
    checks.check_type(torch.zeros(2), torch.Tensor, "x")
    checks.check_type(3.0, (int, float), "x")


def test_check_type_fails_with_expected_and_obtained():
    """Tipo incorrecto: CheckError con el tipo esperado, el obtenido y la pista."""
    with pytest.raises(CheckError) as info:
        checks.check_type([1, 2], torch.Tensor, "salida", "devuelve un tensor")
    assert_message(info, "`salida`", "esperado", "Tensor", "obtenido", "list", "Pista: devuelve un tensor")


def test_check_type_tuple_names_all_types():
    """Con una tupla de tipos, el mensaje los nombra todos."""
    with pytest.raises(CheckError) as info:
        checks.check_type("3", (int, float), "n")
    assert_message(info, "int o float", "str")


def test_check_shape_passes():
    """Un tensor con la forma esperada pasa (lista o tupla)."""
    checks.check_shape(torch.zeros(2, 3), (2, 3), "x")
    checks.check_shape(torch.zeros(2, 3), [2, 3], "x")


def test_check_shape_fails_on_wrong_shape():
    """Forma incorrecta: CheckError con ambas formas."""
    with pytest.raises(CheckError) as info:
        checks.check_shape(torch.zeros(3, 2), (2, 3), "out", "out es (T_q, d_v)")
    assert_message(info, "`out`", "esperado: (2, 3)", "obtenido: (3, 2)", "Pista: out es (T_q, d_v)")


def test_check_shape_fails_on_non_tensor():
    """Si no es un tensor, falla con la pista por defecto."""
    with pytest.raises(CheckError) as info:
        checks.check_shape(None, (2, 3), "out")
    assert_message(info, "NoneType", "Pista", "torch.Tensor")


def test_check_finite_passes():
    """Un tensor finito pasa."""
    checks.check_finite(torch.tensor([0.0, -1e30, 1e30]), "x")


def test_check_finite_fails_and_counts():
    """NaN e infinitos: CheckError que dice cuántos hay."""
    bad = torch.tensor([1.0, float("nan"), float("inf"), -float("inf")])
    with pytest.raises(CheckError) as info:
        checks.check_finite(bad, "weights", "usa torch.softmax")
    assert_message(info, "`weights`", "3 valores", "esperado", "obtenido", "Pista: usa torch.softmax")


# --- check_close ----------------------------------------------------------------------------------


def test_check_close_passes_within_tolerance():
    """Diferencias menores que la tolerancia pasan; también con otro dtype."""
    expected = torch.tensor([1.0, 2.0, 3.0])
    checks.check_close(expected + 1e-7, expected, "x")
    checks.check_close(expected.double(), expected, "x")


def test_check_close_fails_with_message():
    """Valores distintos: CheckError con esperado, obtenido, mayor diferencia y pista."""
    expected = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(CheckError) as info:
        checks.check_close(torch.tensor([1.0, 2.5, 3.0]), expected, "out", "revisa la escala")
    assert_message(info, "`out`", "esperado", "obtenido", "0.5", "Pista: revisa la escala")


def test_check_close_fails_without_hint_has_no_pista():
    """Sin pista, el mensaje no incluye la línea «Pista»."""
    with pytest.raises(CheckError) as info:
        checks.check_close(torch.ones(2), torch.zeros(2), "out")
    assert "Pista" not in str(info.value)


def test_check_close_nan_never_passes():
    """Un NaN en lo obtenido nunca coincide, aunque lo esperado también tenga NaN."""
    with pytest.raises(CheckError):
        checks.check_close(torch.tensor([float("nan"), 1.0]), torch.tensor([float("nan"), 1.0]), "x")


def test_check_close_fails_on_wrong_shape():
    """Forma distinta de la esperada: CheckError de forma, no un error de difusión."""
    with pytest.raises(CheckError) as info:
        checks.check_close(torch.zeros(3), torch.zeros(1, 3), "x")
    assert_message(info, "esperado: (1, 3)", "obtenido: (3,)")


def test_check_close_picks_matching_mistake_hint():
    """Con mistakes=, si lo obtenido coincide con un error conocido su pista sustituye a la genérica."""
    expected = torch.tensor([0.5, 0.5])
    known = {"pista A": torch.tensor([1.0, 0.0]), "pista B": torch.tensor([0.0, 1.0])}
    with pytest.raises(CheckError) as info:
        checks.check_close(torch.tensor([0.0, 1.0]), expected, "w", "pista genérica", mistakes=known)
    message = assert_message(info, "Pista: pista B")
    assert "pista genérica" not in message and "pista A" not in message


def test_check_close_keeps_hint_when_no_mistake_matches():
    """Si ningún error conocido coincide (o tiene otra forma), queda la pista genérica."""
    known = {"pista A": torch.tensor([1.0, 0.0]), "otra forma": torch.tensor([[0.2, 0.8]])}
    with pytest.raises(CheckError) as info:
        checks.check_close(torch.tensor([0.2, 0.8]), torch.tensor([0.5, 0.5]), "w", "pista genérica", mistakes=known)
    message = assert_message(info, "Pista: pista genérica")
    assert "pista A" not in message and "otra forma" not in message


def test_check_close_with_attention_mistakes_names_the_error():
    """De principio a fin: una atención sin escalar recibe la pista de √d_k de attention_mistakes."""
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 16), torch.randn(2, 4, 16), torch.randn(2, 4, 5)
    unscaled = torch.softmax(q @ k.transpose(-2, -1), dim=-1) @ v  # el error, escrito a mano
    wrong = mistakes.attention_mistakes(q, k, v)
    with pytest.raises(CheckError) as info:
        checks.check_close(unscaled, SDPA(q, k, v), "out", "pista genérica", mistakes=wrong.out)
    message = assert_message(info, "√d_k")
    assert "pista genérica" not in message and "en vez de" not in message


# --- check_rows_sum_to_one ------------------------------------------------------------------------


def test_rows_sum_to_one_passes_on_softmax():
    """Pesos de una softmax sobre dim=-1 pasan."""
    torch.manual_seed(1)
    checks.check_rows_sum_to_one(torch.softmax(torch.randn(2, 3, 5), dim=-1))


def test_rows_sum_to_one_rows_argument_skips_rows():
    """Con rows=, las filas excluidas (p. ej. todas enmascaradas) no se comprueban."""
    weights = torch.softmax(torch.randn(3, 4), dim=-1)
    weights[1] = 0.0
    with pytest.raises(CheckError):
        checks.check_rows_sum_to_one(weights)
    checks.check_rows_sum_to_one(weights, rows=torch.tensor([True, False, True]))


def test_rows_sum_to_one_hint_dim_minus_2():
    """Softmax sobre dim=-2 en una matriz no cuadrada: la pista habla de dim=-2."""
    torch.manual_seed(2)
    weights = torch.softmax(torch.randn(2, 3, 5), dim=-2)
    with pytest.raises(CheckError) as info:
        checks.check_rows_sum_to_one(weights, "weights")
    assert_message(info, "`weights`", "esperado", "obtenido", "Pista", "dim=-2")


def test_rows_sum_to_one_hint_mask_after_softmax():
    """Pesos enmascarados puestos a 0 después de la softmax: la pista lo dice."""
    torch.manual_seed(3)
    mask = torch.rand(3, 5) > 0.4
    mask[:, 0] = True
    mask[:, -1] = False
    weights = torch.softmax(torch.randn(3, 5), dim=-1).masked_fill(~mask, 0.0)
    with pytest.raises(CheckError) as info:
        checks.check_rows_sum_to_one(weights)
    message = assert_message(info, "Pista", "DESPUÉS de la softmax")
    assert "dim=-2" not in message


def test_rows_sum_to_one_hint_nan():
    """Filas con NaN (una exponencial desbordada): CheckError con la pista de NaN y torch.softmax."""
    weights = torch.softmax(torch.randn(3, 4), dim=-1)
    weights[1] = float("nan")
    with pytest.raises(CheckError) as info:
        checks.check_rows_sum_to_one(weights)
    assert_message(info, "Pista", "NaN", "torch.softmax")


def test_rows_sum_to_one_hint_nan_with_another_bad_row():
    """Si además otra fila suma mal, el fallo llega y la pista habla de NaN."""
    weights = torch.softmax(torch.randn(3, 4), dim=-1)
    weights[1] = float("nan")
    weights[2] *= 2
    with pytest.raises(CheckError) as info:
        checks.check_rows_sum_to_one(weights)
    assert_message(info, "Pista", "NaN", "torch.softmax")


def test_rows_sum_to_one_generic_hint():
    """Filas que suman más de 1 (sin otro patrón): la pista genérica sobre dim=-1."""
    weights = 2 * torch.softmax(torch.randn(3, 4), dim=-1)
    with pytest.raises(CheckError) as info:
        checks.check_rows_sum_to_one(weights)
    message = assert_message(info, "Pista", "dim=-1")
    assert "dim=-2" not in message and "DESPUÉS" not in message and "NaN" not in message


def test_rows_sum_to_one_1d_fails_with_check_error():
    """Un vector 1-D (una sola fila) que no suma 1 debe dar CheckError, no otro error."""
    with pytest.raises(CheckError):
        checks.check_rows_sum_to_one(torch.tensor([0.5, 0.2]))


# --- check_unchanged / check_attribute ----------------------------------------------------------------


def test_check_unchanged_passes_on_equal():
    """Una copia idéntica pasa."""
    x = torch.randn(3, 4)
    checks.check_unchanged(x.clone(), x, "q")


def test_check_unchanged_fails_on_in_place_change():
    """Una modificación en el sitio: CheckError que nombra la entrada y da la pista."""
    x = torch.randn(3, 4)
    before = x.clone()
    x /= 2
    with pytest.raises(CheckError) as info:
        checks.check_unchanged(before, x, "q")
    assert_message(info, "`q`", "esperado", "obtenido", "Pista", "en el sitio")


def test_check_unchanged_passes_with_nan():
    """Una entrada con NaN que no se tocó no debe declararse modificada."""
    x = torch.tensor([1.0, float("nan")])
    checks.check_unchanged(x.clone(), x, "x")


def test_check_attribute_returns_value():
    """Un atributo del tipo pedido se devuelve."""
    layer = nn.Module()
    layer.W_q = nn.Linear(2, 3)
    assert checks.check_attribute(layer, "W_q", nn.Linear, "SelfAttention") is layer.W_q


def test_check_attribute_missing():
    """Atributo ausente: CheckError con el dueño, el nombre y la pista de __init__."""
    with pytest.raises(CheckError) as info:
        checks.check_attribute(nn.Module(), "W_q", nn.Linear, "SelfAttention")
    assert_message(info, "`SelfAttention`", "`W_q`", "Pista", "__init__", "self.W_q")


def test_check_attribute_wrong_type():
    """Atributo de otro tipo: CheckError con esperado y obtenido."""
    layer = nn.Module()
    layer.W_q = torch.zeros(2, 3)
    with pytest.raises(CheckError) as info:
        checks.check_attribute(layer, "W_q", nn.Linear, "SelfAttention", "usa nn.Linear")
    assert_message(info, "SelfAttention.W_q", "esperado", "Linear", "obtenido", "Tensor", "Pista: usa nn.Linear")


# --- answer ------------------------------------------------------------------------------------------


def test_answer_returns_from_namespace():
    """answer() devuelve el objeto definido en el espacio de nombres dado."""
    sentinel = object()
    assert checks.answer("mi_funcion", {"mi_funcion": sentinel}) is sentinel


def test_answer_missing_raises_spanish_check_error():
    """Si falta el nombre, CheckError en español que pide ejecutar la celda."""
    with pytest.raises(CheckError) as info:
        checks.answer("mi_funcion", {"otra": 1})
    assert_message(info, "No encuentro `mi_funcion`", "Pista", "ejecuta la celda")


def test_answer_defaults_to_main_namespace(monkeypatch):
    """Sin namespace, answer() busca en __main__ (el cuaderno)."""
    sentinel = object()
    monkeypatch.setattr(sys.modules["__main__"], "respuesta_de_prueba", sentinel, raising=False)
    assert checks.answer("respuesta_de_prueba") is sentinel


# --- forbid ------------------------------------------------------------------------------------------


def small_qkv():
    torch.manual_seed(4)
    return torch.randn(1, 2, 4), torch.randn(1, 3, 4), torch.randn(1, 3, 5)


def test_forbid_blocks_listed_paths_and_restores():
    """Dentro del bloque, las rutas prohibidas lanzan ForbiddenCallError; fuera vuelven a funcionar."""
    q, k, v = small_qkv()
    softmax = F.softmax
    with checks.forbid(["torch.nn.functional.scaled_dot_product_attention", "torch.nn.functional.softmax"], {}):
        with pytest.raises(ForbiddenCallError) as info:
            F.scaled_dot_product_attention(q, k, v)
        assert_message(info, "torch.nn.functional.scaled_dot_product_attention")
        with pytest.raises(ForbiddenCallError):
            F.softmax(q, dim=-1)
        torch.softmax(q, dim=-1)  # lo no prohibido sigue funcionando
    assert F.scaled_dot_product_attention is SDPA, "forbid() debe restaurar la función original"
    assert F.softmax is softmax, "forbid() debe restaurar la función original"
    F.scaled_dot_product_attention(q, k, v)


def test_forbid_reference_paths_blocks_course_lib():
    """Con las rutas prohibidas se bloquean las referencias de course_lib (función y clase)."""
    q, k, v = small_qkv()
    with checks.forbid(forbidden.ATTENTION, {}):
        with pytest.raises(ForbiddenCallError):
            course_lib.scaled_dot_product_attention(q, k, v)
        with pytest.raises(ForbiddenCallError):
            attention.scaled_dot_product_attention(q, k, v)
        with pytest.raises(ForbiddenCallError):
            course_lib.SelfAttention(4, 2)
    assert attention.scaled_dot_product_attention is REFERENCE_SDPA
    assert course_lib.scaled_dot_product_attention is REFERENCE_SDPA
    assert isinstance(course_lib.SelfAttention(4, 2), nn.Module), "SelfAttention debe quedar restaurada"


def test_forbid_replaces_aliases_in_namespace():
    """Un alias en el cuaderno (sdpa = F.scaled_dot_product_attention) también queda prohibido y se restaura."""
    q, k, v = small_qkv()
    ns = {"sdpa": F.scaled_dot_product_attention, "ajeno": torch.softmax, "n": 3}
    with checks.forbid(["torch.nn.functional.scaled_dot_product_attention"], ns):
        with pytest.raises(ForbiddenCallError) as info:
            ns["sdpa"](q, k, v)
        assert_message(info, "alias")
        assert ns["ajeno"] is torch.softmax and ns["n"] == 3, "lo que no es alias no se toca"
    assert ns["sdpa"] is SDPA, "el alias debe recuperar su valor"


def test_forbid_restores_when_block_raises():
    """Si el bloque lanza una excepción, forbid() restaura todo y la deja pasar."""
    ns = {"sdpa": F.scaled_dot_product_attention}
    with pytest.raises(ZeroDivisionError), checks.forbid(forbidden.ATTENTION, ns):
        raise ZeroDivisionError("fallo dentro del bloque")
    assert F.scaled_dot_product_attention is SDPA
    assert attention.scaled_dot_product_attention is REFERENCE_SDPA
    assert ns["sdpa"] is SDPA


def test_forbid_restores_after_forbidden_call_error():
    """Una ForbiddenCallError que sale del bloque tampoco deja nada prohibido."""
    q, k, v = small_qkv()
    with pytest.raises(ForbiddenCallError), checks.forbid(forbidden.ATTENTION, {}):
        F.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v), SDPA(q, k, v))


def test_forbid_defaults_to_main_namespace(monkeypatch):
    """Sin namespace, forbid() sustituye los alias de __main__."""
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "alias_sdpa_de_prueba", F.scaled_dot_product_attention, raising=False)
    with checks.forbid(["torch.nn.functional.scaled_dot_product_attention"]):
        assert main.alias_sdpa_de_prueba is not SDPA, "el alias de __main__ debe quedar prohibido"
    assert main.alias_sdpa_de_prueba is SDPA


def test_forbid_restores_when_a_path_does_not_resolve(monkeypatch):
    """Una ruta inexistente da error, pero no deja prohibidas las rutas anteriores."""
    monkeypatch.setattr(F, "softmax", F.softmax)  # para que la prueba no contamine a las demás
    softmax = F.softmax
    paths = ["torch.nn.functional.softmax", "torch.nn.functional.no_existe"]
    with pytest.raises((AttributeError, ImportError)), checks.forbid(paths, {}):
        pass
    assert F.softmax is softmax, "F.softmax quedó prohibida tras un forbid() fallido"


# --- replace_answer ----------------------------------------------------------------------------------


def test_replace_answer_installs_stand_in_and_restores():
    """Instala un sustituto que llama al reemplazo (con args y kwargs) y después restaura lo anterior."""
    original = object()
    calls = []

    def replacement(*args, **kwargs):
        calls.append((args, kwargs))
        return "resultado"

    ns = {"ejercicio": original}
    with checks.replace_answer("ejercicio", replacement, ns):
        assert ns["ejercicio"] is not original
        assert ns["ejercicio"](1, b=2) == "resultado"
    assert calls == [((1,), {"b": 2})], "el sustituto debe pasar los argumentos al reemplazo"
    assert ns["ejercicio"] is original, "debe restaurarse el valor anterior"


def test_replace_answer_removes_name_if_absent():
    """Si el nombre no existía, se elimina al salir."""
    ns: dict = {}
    with checks.replace_answer("ejercicio", lambda: 42, ns):
        assert ns["ejercicio"]() == 42
    assert "ejercicio" not in ns


def test_replace_answer_restores_when_block_raises():
    """Si el bloque lanza, se restaura igualmente."""
    ns = {"ejercicio": "antes"}
    with pytest.raises(KeyError), checks.replace_answer("ejercicio", len, ns):
        raise KeyError("x")
    assert ns["ejercicio"] == "antes"


def test_replace_answer_before_forbid_keeps_reference_usable():
    """replace_answer() antes de forbid() en el mismo with: el sustituto funciona con la referencia prohibida."""
    q, k, v = small_qkv()
    expected = SDPA(q, k, v)
    student = object()
    ns = {"scaled_dot_product_attention": student}
    with (
        checks.replace_answer("scaled_dot_product_attention", REFERENCE_SDPA, ns),
        checks.forbid(forbidden.ATTENTION, ns),
    ):
        with pytest.raises(ForbiddenCallError):
            attention.scaled_dot_product_attention(q, k, v)  # la referencia, prohibida
        out, weights = ns["scaled_dot_product_attention"](q, k, v)  # el sustituto, no
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(1, 2))
    assert ns["scaled_dot_product_attention"] is student, "al salir vuelve la respuesta del alumno"


def test_forbid_alone_blocks_reference_assigned_as_answer():
    """Control: sin replace_answer, una respuesta que ES la referencia queda prohibida (por eso el orden importa)."""
    q, k, v = small_qkv()
    ns = {"scaled_dot_product_attention": REFERENCE_SDPA}
    with checks.forbid(forbidden.ATTENTION, ns), pytest.raises(ForbiddenCallError):
        ns["scaled_dot_product_attention"](q, k, v)
    assert ns["scaled_dot_product_attention"] is REFERENCE_SDPA
