"""Train the tiny preset for a few steps, export it, and check ONNX Runtime against PyTorch."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True)


def test_tiny_train_export_and_parity(tmp_path):
    runs, pkg = tmp_path / "run", tmp_path / "pkg"
    run("train_tokenizer.py", "--preset", "tiny", "--run", str(runs), "--steps", "3", "--eval-every", "3")
    run("train_llm.py", "--preset", "tiny", "--run", str(runs), "--steps", "3")
    run("train_renderer.py", "--preset", "tiny", "--run", str(runs), "--steps", "2", "--eval-n", "4",
        "--extra-layers", "1", "--decoder-lr-scale", "0")
    run("export.py", "--preset", "tiny", "--run", str(runs), "--out", str(pkg), "--golden", str(tmp_path / "g.json"),
        "--slim-dir", str(tmp_path / "slim"))
    manifest = json.loads((pkg / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["tokens"]["per_image"] == 16
    for g in ("encoder", "denoiser", "llm", "renderer"):
        assert (pkg / manifest["graphs"][g]["file"]).stat().st_size > 0
    # the run has a renderer and the preset uses it: the package decodes with it unless asked for steps
    assert manifest["sampler"]["use_renderer"] and manifest["training"]["renderer_steps"] == 2
    parity = json.loads((pkg / "parity.json").read_text())
    assert parity["encoder_codes_equal"]
    assert parity["denoiser_max_diff"] < 1e-4 and parity["llm_cached_step_max_diff"] < 1e-4
    assert parity["renderer_max_diff"] < 1e-4
    # the renderer's decoder blocks are the denoiser's: both graphs read one copy of their weights
    assert (pkg / "decoder.weights").stat().st_size > 0
    assert (pkg / "denoiser.onnx").stat().st_size < 100_000 and (pkg / "renderer.onnx").stat().st_size < 100_000
    # the decoder stayed frozen, so the committed checkpoint holds the added block alone, and it loads to the
    # renderer that was exported
    import torch

    from export import load_renderer, load_run
    from ddt.presets import PRESETS

    slim = torch.load(tmp_path / "slim" / "renderer.pt", weights_only=False)
    assert slim["added_only"] and all(k.startswith("net.blocks.1.") for k in slim["model"])
    tok = load_run(tmp_path / "slim", PRESETS["tiny"])[0]
    codes, mask = torch.randint(0, 512, (2, 16)), torch.ones(2, 16)
    with torch.no_grad():
        a = load_renderer(tmp_path / "slim", tok)[0](codes, mask)
        b = load_renderer(runs, tok)[0](codes, mask)
    assert torch.equal(a, b)
    golden = json.loads((tmp_path / "g.json").read_text())
    assert len(golden["generate"][0]["tokens"]) == 16
    assert golden["generate"][0]["steps"] == 0 and golden["decode_keep"]["steps"] == 0
    # the tiny preset plans: the manifest names both templates, the golden file records the plans
    assert manifest["prompting"]["plan_template"] == "where can you draw {prompt}"
    assert manifest["prompting"]["edit_plan_template"] == "{caption} {instruction} now what is in the image"
    assert "plan" in golden["generate"][0] and len(golden["edit_planned"]["tokens"]) == 16
    # and it answers questions after its caption: the golden answer records the caption it was read off
    assert manifest["prompting"]["answer_template"] == "{caption} {question}"
    assert golden["ask"]["caption"] == golden["caption"]["text"]
    # evaluation and model card run on the package (the scores of 3 training steps mean nothing)
    run("eval.py", "--preset", "tiny", "--run", str(runs), "--out", str(pkg), "--n", "4", "--threads", "1",
        "--only", "t2i,t2i_trained,understanding,edit,loss")
    ev = json.loads((pkg / "eval.json").read_text())
    assert set(ev["vqa"]) == set(ev["vqa_direct"]) == {"count", "colour", "shape", "where", "exists"}
    assert sum(v["n"] for v in ev["caption_by_objects"].values()) == 4
    run("card.py", "--out", str(pkg))
    card = (pkg / "MODEL_CARD.md").read_text()
    assert set(ev["heldout_loss"]) == {"t2i", "caption", "vqa", "edit"}
    assert "Captions fully right" in card and "by objects in the image" in card and "Held-out cross-entropy" in card
    assert set(ev["t2i_trained"]) == set(ev["t2i"]) and "on prompts it trained on" in card
    assert ev["answer_by_caption"] and "answering from the image directly" in card
    assert ev["plan"] and set(ev["t2i"]["plan_valid"]) == set(ev["t2i_distinct_prompts"]) and "plan_exact" in ev["edit"]


def test_resume_continues_from_checkpoint(tmp_path):
    runs = tmp_path / "run"
    run("train_tokenizer.py", "--preset", "tiny", "--run", str(runs), "--steps", "2", "--eval-every", "100")
    run("train_tokenizer.py", "--preset", "tiny", "--run", str(runs), "--steps", "4", "--eval-every", "100")
    import torch

    assert torch.load(runs / "tokenizer.pt", weights_only=False)["step"] == 4


def test_llm_cooldown_phase_survives_a_resume(tmp_path):
    runs = tmp_path / "run"
    run("train_tokenizer.py", "--preset", "tiny", "--run", str(runs), "--steps", "1", "--eval-every", "100")
    run("train_llm.py", "--preset", "tiny", "--run", str(runs), "--steps", "3")
    # the first cooldown run stops before any step; the second must keep its phase and schedule
    run("train_llm.py", "--preset", "tiny", "--run", str(runs), "--cooldown", "2", "--minutes", "0")
    run("train_llm.py", "--preset", "tiny", "--run", str(runs), "--cooldown", "2")
    import torch

    ck = torch.load(runs / "llm.pt", weights_only=False)
    assert (ck["step"], ck["decay_from"], ck["decay_len"], ck["schedule_total"]) == (5, 3, 2, 3)


def test_renderer_resumes_from_its_checkpoint(tmp_path):
    runs = tmp_path / "run"
    run("train_tokenizer.py", "--preset", "tiny", "--run", str(runs), "--steps", "1", "--eval-every", "100")
    run("train_renderer.py", "--preset", "tiny", "--run", str(runs), "--steps", "2", "--eval-n", "2")
    run("train_renderer.py", "--preset", "tiny", "--run", str(runs), "--steps", "3", "--eval-n", "2")
    import torch

    assert torch.load(runs / "renderer.pt", weights_only=False)["step"] == 3
    log = [json.loads(line) for line in (runs / "renderer_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if "recon_exact" in e] == [0, 2, 3]  # step 0: the decoder at t = 1


def test_tied_renderer_trains_the_denoiser_and_exports_one_set_of_decoder_weights(tmp_path):
    runs, pkg, slim = tmp_path / "run", tmp_path / "pkg", tmp_path / "slim"
    run("train_tokenizer.py", "--preset", "tiny", "--run", str(runs), "--steps", "1", "--eval-every", "100")
    run("train_llm.py", "--preset", "tiny", "--run", str(runs), "--steps", "1")
    tied = ("--extra-layers", "1", "--lr", "1e-2", "--decoder-lr-scale", "1", "--denoise-weight", "1")
    run("train_renderer.py", "--preset", "tiny", "--run", str(runs), "--steps", "2", "--eval-n", "2", *tied)
    # a tied renderer resumes only as one: without the denoising loss its decoder would leave the denoiser's
    refused = subprocess.run([sys.executable, "train_renderer.py", "--preset", "tiny", "--run", str(runs),
                              "--steps", "3"], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "--denoise-weight" in refused.stderr
    run("train_renderer.py", "--preset", "tiny", "--run", str(runs), "--steps", "3", "--eval-n", "2", *tied)
    import torch

    from ddt.presets import PRESETS
    from export import load_renderer, load_run

    log = [json.loads(line) for line in (runs / "renderer_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if "sampler_exact" in e] == [0, 2, 3]
    ck = torch.load(runs / "renderer.pt", weights_only=False)
    before = torch.load(runs / "tokenizer.pt", weights_only=False)["model"]
    assert ck["tied_decoder"] and not torch.equal(ck["model"]["net.out.weight"], before["denoiser.out.weight"])
    run("export.py", "--preset", "tiny", "--run", str(runs), "--out", str(pkg), "--slim-dir", str(slim))
    # the package's denoiser is the trained decoder, stored once for both graphs
    assert (pkg / "decoder.weights").stat().st_size > 0 and (pkg / "denoiser.onnx").stat().st_size < 100_000
    assert json.loads((pkg / "parity.json").read_text())["denoiser_max_diff"] < 1e-4
    slim_tok = torch.load(slim / "tokenizer.pt", weights_only=False)
    assert slim_tok["decoder_from_renderer_step"] == 3
    assert torch.equal(slim_tok["model"]["denoiser.out.weight"], ck["model"]["net.out.weight"])
    # and the encoder, so every code the LLM learnt, is untouched
    assert all(torch.equal(v, before[k]) for k, v in slim_tok["model"].items() if k.startswith("encoder."))
    assert torch.load(slim / "renderer.pt", weights_only=False)["added_only"]
    # a slim checkpoint has no optimiser state and no decoder weights of its own: not a run to resume
    refused = subprocess.run([sys.executable, "train_renderer.py", "--preset", "tiny", "--run", str(slim),
                              "--steps", "4", *tied], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "slim checkpoint" in refused.stderr
    codes, mask = torch.randint(0, 512, (2, 16)), torch.ones(2, 16)
    with torch.no_grad():
        tok_slim, tok_run = load_run(slim, PRESETS["tiny"])[0], load_run(runs, PRESETS["tiny"])[0]
        a = load_renderer(slim, tok_slim)[0](codes, mask)
        b = load_renderer(runs, tok_run)[0](codes, mask)
    assert torch.equal(a, b) and torch.equal(tok_run.denoiser.out.weight, tok_slim.denoiser.out.weight)
    # a new run continues from the slim checkpoint (--init-slim): the same renderer at its step 0
    cont = tmp_path / "cont"
    cont.mkdir()
    shutil.copy(slim / "tokenizer.pt", cont / "tokenizer.pt")
    run("train_renderer.py", "--preset", "tiny", "--run", str(cont), "--steps", "1", "--eval-n", "2",
        "--init-slim", str(slim / "renderer.pt"), *tied)
    assert torch.load(cont / "renderer.pt", weights_only=False)["step"] == 1
    import train_renderer
    from train_llm import load_tokenizer

    tok_cont = load_tokenizer(slim, PRESETS["tiny"])
    started, _ = train_renderer.load_renderer(tmp_path / "none", tok_cont, 0, True, slim / "renderer.pt")
    with torch.no_grad():
        assert torch.equal(started.eval()(codes, mask), a)
