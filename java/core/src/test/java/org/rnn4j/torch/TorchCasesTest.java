package org.rnn4j.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.nn.Lstm;

/**
 * The fixtures of {@code make_torch_nn_fixtures.py} load through {@link TorchCases} and say what their docstring says:
 * each case is recomputed here from its own inputs with a plain double-precision reference of PyTorch's formula (the
 * arithmetic the library's operations must match) and agrees within {@code 1e-9 * |want| + 1e-12}; the training run
 * clips on some steps only and its first loss follows from its initial parameters through {@link Lstm}.
 */
class TorchCasesTest {

    private static void close(String what, double[] got, double[] want) {
        TorchCases.Deviation d = TorchCases.compare(what, got, want, TorchCases.RTOL, TorchCases.ATOL);
        assertEquals(0, d.bad(), d.line());
    }

    private static void close(String what, double got, double want) {
        close(what, new double[] {got}, new double[] {want});
    }

    /** {@code y = x W^T + b} over the rows of {@code x (n, in)}. */
    private static double[] linear(double[] x, double[] w, double[] b, int in, int out) {
        int n = x.length / in;
        double[] y = new double[n * out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    /** Mean cross-entropy of {@code logits (n, c)} and its gradient, in the log-sum-exp form. */
    private static double crossEntropy(double[] logits, int[] targets, int c, double[] grad) {
        int n = targets.length;
        double loss = 0;
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, logits[r * c + j]);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(logits[r * c + j] - max);
            }
            double lse = max + Math.log(sum);
            loss += lse - logits[r * c + targets[r]];
            for (int j = 0; j < c; j++) {
                grad[r * c + j] = (Math.exp(logits[r * c + j] - lse) - (j == targets[r] ? 1 : 0)) / n;
            }
        }
        return loss / n;
    }

    @Test
    void linearEmbeddingAndLossesFollowPyTorchsFormulas() {
        TorchCases.Case nn = TorchCases.load(TorchCases.NN);
        for (TorchCases.Case c : nn.children("linear")) {
            int in = c.integer("inFeatures");
            int out = c.integer("outFeatures");
            Map<String, TorchCases.Tensor> p = c.group("params");
            assertEquals(List.of("weight", "bias"), new ArrayList<>(p.keySet()));
            close("linear", linear(c.data("inputs"), p.get("weight").data(), p.get("bias").data(), in, out),
                    c.data("outputs"));
        }
        for (TorchCases.Case c : nn.children("embedding")) {
            int dim = c.integer("dim");
            int[] idx = c.tensor("indices").ints();
            double[] w = c.group("params").get("weight").data();
            double[] r = c.data("outputGrads");
            double[] out = new double[idx.length * dim];
            double[] dw = new double[w.length];
            for (int i = 0; i < idx.length; i++) {
                for (int j = 0; j < dim; j++) {
                    out[i * dim + j] = w[idx[i] * dim + j];
                    dw[idx[i] * dim + j] += r[i * dim + j];
                }
            }
            close("embedding", out, c.data("outputs"));
            close("embedding grad", dw, c.group("grads").get("weight").data());
        }
        boolean extreme = false;
        for (TorchCases.Case c : nn.children("crossEntropy")) {
            double[] logits = c.data("logits");
            double[] grad = new double[logits.length];
            close("cross-entropy", crossEntropy(logits, c.tensor("targets").ints(), c.integer("classes"), grad),
                    c.number("loss"));
            close("cross-entropy grad", grad, c.data("logitGrads"));
            for (double v : logits) {
                extreme |= Math.abs(v) == 50;
            }
        }
        assertTrue(extreme, "a case with logits at +-50");
        for (TorchCases.Case c : nn.children("mse")) {
            double[] p = c.data("predictions");
            double[] t = c.data("targets");
            double loss = 0;
            double[] g = new double[p.length];
            for (int i = 0; i < p.length; i++) {
                loss += (p[i] - t[i]) * (p[i] - t[i]);
                g[i] = 2 * (p[i] - t[i]) / p.length;
            }
            close("mse", loss / p.length, c.number("loss"));
            close("mse grad", g, c.data("predictionGrads"));
        }
        List<Boolean> clips = new ArrayList<>();
        for (TorchCases.Case c : nn.children("clipGradNorm")) {
            double sq = 0;
            for (TorchCases.Tensor g : c.tensors("grads")) {
                for (double v : g.data()) {
                    sq += v * v;
                }
            }
            double norm = Math.sqrt(sq);
            close("total norm", norm, c.number("totalNorm"));
            double scale = Math.min(1, c.number("maxNorm") / (norm + 1e-6));
            List<TorchCases.Tensor> before = c.tensors("grads");
            List<TorchCases.Tensor> after = c.tensors("clippedGrads");
            for (int i = 0; i < before.size(); i++) {
                double[] g = before.get(i).data().clone();
                for (int j = 0; j < g.length; j++) {
                    g[j] *= scale;
                }
                close("clipped", g, after.get(i).data());
            }
            clips.add(c.flag("clips"));
        }
        assertEquals(List.of(true, false), clips);
    }

    @Test
    void optimizersFollowPyTorchsArithmetic() {
        TorchCases.Case train = TorchCases.load(TorchCases.TRAIN);
        TorchCases.Case adam = train.child("adamWeightDecay");
        double lr = adam.number("lr");
        double b1 = adam.number("beta1");
        double b2 = adam.number("beta2");
        double eps = adam.number("eps");
        double wd = adam.number("weightDecay");
        assertTrue(wd > 0);
        List<TorchCases.Tensor> init = adam.tensors("initialParams");
        List<List<TorchCases.Tensor>> grads = adam.tensorLists("grads");
        List<List<TorchCases.Tensor>> params = adam.tensorLists("params");
        for (int k = 0; k < init.size(); k++) {
            double[] p = init.get(k).data().clone();
            double[] m = new double[p.length];
            double[] v = new double[p.length];
            for (int step = 1; step <= grads.size(); step++) {
                double[] g = grads.get(step - 1).get(k).data();
                for (int i = 0; i < p.length; i++) {
                    double gi = g[i] + wd * p[i];
                    m[i] = b1 * m[i] + (1 - b1) * gi;
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                    double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, step)) + eps;
                    p[i] -= lr / (1 - Math.pow(b1, step)) * m[i] / denom;
                }
                close("adam step " + step, p, params.get(step - 1).get(k).data());
            }
        }
        TorchCases.Case sgd = train.child("sgdMomentum");
        double slr = sgd.number("lr");
        double mu = sgd.number("momentum");
        List<TorchCases.Tensor> sinit = sgd.tensors("initialParams");
        List<List<TorchCases.Tensor>> sgrads = sgd.tensorLists("grads");
        List<List<TorchCases.Tensor>> sparams = sgd.tensorLists("params");
        for (int k = 0; k < sinit.size(); k++) {
            double[] p = sinit.get(k).data().clone();
            double[] buf = null;
            for (int step = 1; step <= sgrads.size(); step++) {
                double[] g = sgrads.get(step - 1).get(k).data();
                if (buf == null) {
                    buf = g.clone(); // PyTorch: the first step's buffer is the gradient itself
                } else {
                    for (int i = 0; i < p.length; i++) {
                        buf[i] = mu * buf[i] + g[i];
                    }
                }
                for (int i = 0; i < p.length; i++) {
                    p[i] -= slr * buf[i];
                }
                close("sgd step " + step, p, sparams.get(step - 1).get(k).data());
            }
        }
    }

    @Test
    void theTrainingRunClipsOnSomeStepsAndItsFirstLossFollowsFromItsParameters() {
        TorchCases.Case run = TorchCases.load(TorchCases.TRAIN).child("train");
        List<TorchCases.Case> records = run.children("records");
        assertEquals(run.integer("iterations"), records.size());
        List<Boolean> clipped = records.stream().map(r -> r.flag("clipped")).toList();
        assertTrue(clipped.contains(true) && clipped.contains(false), clipped.toString());
        for (TorchCases.Case r : records) {
            assertEquals(r.number("totalNorm") > run.number("maxNorm"), r.flag("clipped"));
        }
        Map<String, TorchCases.Tensor> init = run.group("initialParams");
        assertEquals(List.of("embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
                "head.weight", "head.bias"), new ArrayList<>(init.keySet()));
        assertEquals(init.keySet(), records.get(9).group("params").keySet());
        int vocab = run.integer("vocab");
        int e = run.integer("embedding");
        int h = run.integer("hidden");
        int steps = run.integer("steps");
        int batch = run.integer("batch");
        int[] tokens = run.tensor("inputs").ints();
        double[] emb = init.get("embedding.weight").data();
        double[] x = new double[tokens.length * e];
        for (int i = 0; i < tokens.length; i++) {
            System.arraycopy(emb, tokens[i] * e, x, i * e, e);
        }
        double[] out;
        try (Backend backend = new CpuBackend64();
             Lstm lstm = Lstm.create(backend, e, h, run.integer("numLayers"), 0);
             Lstm.Workspace ws = lstm.workspace(steps, batch)) {
            for (Map.Entry<String, TorchCases.Tensor> p : init.entrySet()) {
                if (p.getKey().startsWith("lstm.")) {
                    lstm.arena().uploadParam(p.getKey().substring("lstm.".length()), p.getValue().data());
                }
            }
            ws.setInputs(x);
            lstm.forward(ws);
            out = ws.downloadOutputs();
        }
        double[] logits = linear(out, init.get("head.weight").data(), init.get("head.bias").data(), h, vocab);
        double loss = crossEntropy(logits, run.tensor("targets").ints(), vocab, new double[logits.length]);
        close("first loss", loss, records.get(0).number("loss"));
    }
}
