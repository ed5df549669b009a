package org.rnn4j.torch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.nn.Adam;
import org.rnn4j.nn.CrossEntropyLoss;
import org.rnn4j.nn.Embedding;
import org.rnn4j.nn.GradientClipping;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.MseLoss;
import org.rnn4j.nn.ParameterArena;
import org.rnn4j.nn.Sequential;
import org.rnn4j.nn.Sgd;

/**
 * Runs the {@code nn_fixtures.json} and {@code train_fixtures.json} cases through the library ({@link Linear},
 * {@link Embedding}, {@link CrossEntropyLoss}, {@link MseLoss}, {@link GradientClipping}, {@link Adam}, {@link Sgd} and
 * a whole {@link Sequential} training run) on a given backend and pairs every computed array with PyTorch's. Public
 * so that the CUDA module's tests run the same cases from the core's test jar.
 */
public final class NnTorchRuns {

    private NnTorchRuns() {
    }

    /** One compared array: what the library computed and what PyTorch did. */
    public record Pair(String what, double[] got, double[] want) {
        /** The deviation within {@code rtol * |want| + atol}. */
        public TorchCases.Deviation deviation(double rtol, double atol) {
            return TorchCases.compare(what, got, want, rtol, atol);
        }
    }

    private static Pair pair(String what, double got, double want) {
        return new Pair(what, new double[] {got}, new double[] {want});
    }

    /** {@code nn.Linear}: outputs and the gradients of the weight, the bias and the input, per case. */
    public static List<Pair> linear(Backend backend) {
        List<Pair> out = new ArrayList<>();
        int k = 0;
        for (TorchCases.Case c : TorchCases.load(TorchCases.NN).children("linear")) {
            String n = "linear[" + k++ + "] ";
            int in = c.integer("inFeatures");
            int o = c.integer("outFeatures");
            int rows = c.integer("steps") * c.integer("batch");
            try (Linear lin = Linear.create(backend, in, o, 5); Buffer x = backend.allocate(rows * in);
                 Buffer y = backend.allocate(rows * o); Buffer dy = backend.allocate(rows * o);
                 Buffer dx = backend.allocate(rows * in)) {
                for (Map.Entry<String, TorchCases.Tensor> e : c.group("params").entrySet()) {
                    lin.arena().uploadParam(e.getKey(), e.getValue().data());
                }
                backend.upload(c.data("inputs"), x);
                lin.forward(x, y);
                out.add(new Pair(n + "outputs", backend.download(y), c.data("outputs")));
                backend.upload(c.data("outputGrads"), dy);
                lin.backward(x, dy, dx);
                out.add(new Pair(n + "d weight", backend.download(lin.weightGrad()),
                        c.group("grads").get("weight").data()));
                out.add(new Pair(n + "d bias", backend.download(lin.biasGrad()), c.group("grads").get("bias").data()));
                out.add(new Pair(n + "d inputs", backend.download(dx), c.data("inputGrads")));
            }
        }
        return out;
    }

    /** {@code nn.Embedding} with repeated indices: outputs and the gradient of the weight, per case. */
    public static List<Pair> embedding(Backend backend) {
        List<Pair> out = new ArrayList<>();
        int k = 0;
        for (TorchCases.Case c : TorchCases.load(TorchCases.NN).children("embedding")) {
            String n = "embedding[" + k++ + "] ";
            int vocab = c.integer("vocab");
            int dim = c.integer("dim");
            int[] idx = c.tensor("indices").ints();
            try (Embedding emb = Embedding.create(backend, vocab, dim, 5); Buffer ix = backend.allocate(idx.length);
                 Buffer y = backend.allocate(idx.length * dim); Buffer dy = backend.allocate(idx.length * dim)) {
                emb.arena().uploadParam("weight", c.group("params").get("weight").data());
                backend.uploadIndices(idx, 0, ix);
                emb.forward(ix, y);
                out.add(new Pair(n + "outputs", backend.download(y), c.data("outputs")));
                backend.upload(c.data("outputGrads"), dy);
                emb.backward(ix, dy, false);
                out.add(new Pair(n + "d weight", backend.download(emb.weightGrad()),
                        c.group("grads").get("weight").data()));
            }
        }
        return out;
    }

    /** {@code F.cross_entropy} (mean) and {@code F.mse_loss} (mean): the value and the gradient, per case. */
    public static List<Pair> losses(Backend backend) {
        List<Pair> out = new ArrayList<>();
        int k = 0;
        TorchCases.Case nn = TorchCases.load(TorchCases.NN);
        for (TorchCases.Case c : nn.children("crossEntropy")) {
            String n = "cross_entropy[" + k++ + "] ";
            int rows = c.integer("rows");
            int classes = c.integer("classes");
            try (CrossEntropyLoss ce = new CrossEntropyLoss(backend, rows, classes);
                 Buffer x = backend.allocate(rows * classes); Buffer dx = backend.allocate(rows * classes)) {
                backend.upload(c.data("logits"), x);
                ce.setTargets(c.tensor("targets").ints());
                ce.forward(x);
                out.add(pair(n + "loss", ce.value(), c.number("loss")));
                ce.backward(x, dx);
                out.add(new Pair(n + "d logits", backend.download(dx), c.data("logitGrads")));
            }
        }
        k = 0;
        for (TorchCases.Case c : nn.children("mse")) {
            String n = "mse[" + k++ + "] ";
            double[] p = c.data("predictions");
            try (MseLoss mse = new MseLoss(backend, p.length); Buffer x = backend.allocate(p.length);
                 Buffer dx = backend.allocate(p.length)) {
                backend.upload(p, x);
                mse.setTargets(c.data("targets"));
                mse.forward(x);
                out.add(pair(n + "loss", mse.value(), c.number("loss")));
                mse.backward(x, dx);
                out.add(new Pair(n + "d predictions", backend.download(dx), c.data("predictionGrads")));
            }
        }
        return out;
    }

    /** An arena with one tensor per shape, named {@code p0, p1, ...}. */
    private static ParameterArena arena(Backend backend, List<TorchCases.Tensor> shapes) {
        ParameterArena.Layout layout = new ParameterArena.Layout();
        for (int i = 0; i < shapes.size(); i++) {
            int[] s = shapes.get(i).shape();
            layout.add("p" + i, s.length == 2 ? s[0] : 1, s[s.length - 1]);
        }
        return new ParameterArena(backend, layout);
    }

    /** {@code clip_grad_norm_}: the total norm and every clipped gradient, per case. */
    public static List<Pair> clipGradNorm(Backend backend) {
        List<Pair> out = new ArrayList<>();
        int k = 0;
        for (TorchCases.Case c : TorchCases.load(TorchCases.NN).children("clipGradNorm")) {
            String n = "clip_grad_norm_[" + k++ + "] ";
            List<TorchCases.Tensor> grads = c.tensors("grads");
            try (ParameterArena arena = arena(backend, grads); GradientClipping clip = new GradientClipping(arena)) {
                for (int i = 0; i < grads.size(); i++) {
                    backend.upload(grads.get(i).data(), arena.grad("p" + i));
                }
                clip.clipGradNorm(c.number("maxNorm"));
                out.add(pair(n + "total norm", clip.lastNorm(), c.number("totalNorm")));
                List<TorchCases.Tensor> clipped = c.tensors("clippedGrads");
                for (int i = 0; i < grads.size(); i++) {
                    out.add(new Pair(n + "grad " + i, arena.downloadGrad("p" + i), clipped.get(i).data()));
                }
            }
        }
        return out;
    }

    /**
     * {@code Adam(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)} and {@code SGD(lr=0.1, momentum=0.9)} on
     * given gradients: every parameter after every step.
     */
    public static List<Pair> optimizers(Backend backend) {
        List<Pair> out = new ArrayList<>();
        TorchCases.Case train = TorchCases.load(TorchCases.TRAIN);
        for (String which : List.of("adamWeightDecay", "sgdMomentum")) {
            TorchCases.Case c = train.child(which);
            List<TorchCases.Tensor> init = c.tensors("initialParams");
            List<List<TorchCases.Tensor>> grads = c.tensorLists("grads");
            List<List<TorchCases.Tensor>> params = c.tensorLists("params");
            try (ParameterArena arena = arena(backend, init)) {
                for (int i = 0; i < init.size(); i++) {
                    arena.uploadParam("p" + i, init.get(i).data());
                }
                try (AutoCloseable opt = which.equals("adamWeightDecay")
                        ? new Adam(arena, c.number("lr"), c.number("beta1"), c.number("beta2"), c.number("eps"),
                        c.number("weightDecay"))
                        : new Sgd(arena, c.number("lr"), c.number("momentum"), c.number("weightDecay"))) {
                    for (int step = 0; step < grads.size(); step++) {
                        for (int i = 0; i < init.size(); i++) {
                            backend.upload(grads.get(step).get(i).data(), arena.grad("p" + i));
                        }
                        if (opt instanceof Adam a) {
                            a.step();
                        } else {
                            ((Sgd) opt).step();
                        }
                        for (int i = 0; i < init.size(); i++) {
                            out.add(new Pair(which + " step " + (step + 1) + " p" + i, arena.downloadParam("p" + i),
                                    params.get(step).get(i).data()));
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return out;
    }

    /**
     * The whole training run: {@code Embedding(11, 5) -> LSTM(5, 7, num_layers=2) -> Linear(7, 11)} built with
     * {@link Sequential} (default names, PyTorch's), PyTorch's initial parameters, then per step cross-entropy,
     * backward, {@code clip_grad_norm_(0.25)} and {@code Adam(lr=0.01)}: the loss, the total norm and every parameter
     * after every step. The first key of the result's pairs is the step.
     */
    public static List<Pair> trainingRun(Backend backend) {
        TorchCases.Case run = TorchCases.load(TorchCases.TRAIN).child("train");
        int vocab = run.integer("vocab");
        int steps = run.integer("steps");
        int batch = run.integer("batch");
        List<Pair> out = new ArrayList<>();
        try (Sequential model = Sequential.builder().embedding(vocab, run.integer("embedding"))
                .lstm(run.integer("hidden"), run.integer("numLayers")).linear(vocab).build(backend, 1);
             Sequential.Workspace ws = model.workspace(steps, batch);
             CrossEntropyLoss loss = new CrossEntropyLoss(backend, steps * batch, vocab);
             GradientClipping clip = new GradientClipping(model.arena());
             Adam adam = new Adam(model.arena(), run.number("lr"))) {
            Map<String, double[]> init = new LinkedHashMap<>();
            run.group("initialParams").forEach((name, t) -> init.put(name, t.data()));
            if (!new ArrayList<>(init.keySet()).equals(model.parameterTensors().stream().map(t -> t.name()).toList())) {
                throw new AssertionError("names differ: model " + model.parameterTensors() + ", PyTorch "
                        + init.keySet());
            }
            model.loadStateDict(init);
            ws.setTokens(run.tensor("inputs").ints());
            loss.setTargets(run.tensor("targets").ints());
            int step = 0;
            for (TorchCases.Case r : run.children("records")) {
                step++;
                model.forward(ws);
                loss.forward(ws.outputs());
                loss.backward(ws.outputs(), ws.outputGrads());
                model.backward(ws);
                clip.clipGradNorm(run.number("maxNorm"));
                adam.step();
                out.add(pair("step " + step + " loss", loss.value(), r.number("loss")));
                out.add(pair("step " + step + " total norm", clip.lastNorm(), r.number("totalNorm")));
                Map<String, double[]> got = model.stateDict();
                for (Map.Entry<String, TorchCases.Tensor> e : r.group("params").entrySet()) {
                    out.add(new Pair("step " + step + " " + e.getKey(), got.get(e.getKey()), e.getValue().data()));
                }
            }
            if (adam.stepCount() != step) {
                throw new AssertionError("Adam counted " + adam.stepCount() + " steps, want " + step);
            }
        }
        return out;
    }
}
