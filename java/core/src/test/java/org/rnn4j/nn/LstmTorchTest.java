package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.net.ParamTensor;
import org.rnn4j.torch.TorchCases;

/**
 * {@link Lstm} equals PyTorch's {@code nn.LSTM(X, H, num_layers=L)} with given {@code h0, c0}
 * ({@code lstm_stack_fixtures.json}): outputs, {@code hN}, {@code cN} and the gradients of the input, {@code h0},
 * {@code c0} and every parameter, after {@code L = sum(out*R) + sum(hN*RH) + sum(cN*RC)}, within
 * {@code 1e-9 * |want| + 1e-12} in float64; in float32 within the bound of {@link #F32}. Deviations are printed.
 */
class LstmTorchTest {

    /**
     * float32: {@code |got - want| <= 1e-5 * |want| + 1e-5 * max|want|} over each compared array: inputs and
     * parameters are rounded to float (relative {@code 2^-24}) and every value passes through a few dozen float
     * roundings of GEMMs and cells over at most 3 layers and 5 steps; a wrong term is off by far more.
     */
    static final double F32 = 1e-5;

    static Stream<TorchCases.Case> cases() {
        return TorchCases.load(TorchCases.LSTM_STACK).children("cases").stream();
    }

    @Test
    void casesCoverOneTwoAndThreeLayersAndNamesAndShapesArePyTorchs() {
        List<Integer> layers = cases().map(c -> c.integer("numLayers")).distinct().sorted().toList();
        assertEquals(List.of(1, 2, 3), layers);
        cases().forEach(c -> {
            try (Backend backend = new CpuBackend64();
                 Lstm lstm = Lstm.create(backend, c.integer("inputSize"), c.integer("hidden"),
                         c.integer("numLayers"), 1)) {
                Map<String, TorchCases.Tensor> params = c.group("params");
                List<String> ours = lstm.parameterTensors().stream().map(ParamTensor::name).toList();
                assertEquals(new ArrayList<>(params.keySet()), ours, TorchCases.lstmStackName(c));
                for (ParamTensor t : lstm.parameterTensors()) {
                    int[] shape = params.get(t.name()).shape();
                    int[] ourShape = t.rows() == 1 ? new int[] {t.cols()} : new int[] {t.rows(), t.cols()};
                    assertArrayEquals(shape, ourShape, t.name());
                }
            }
        });
    }

    @ParameterizedTest(name = "{index}")
    @MethodSource("cases")
    void float64MatchesPyTorch(TorchCases.Case c) {
        Map<String, double[]> got;
        try (Backend backend = new CpuBackend64()) {
            got = TorchCases.runLstmStack(backend, c);
        }
        List<TorchCases.Deviation> devs = new ArrayList<>();
        for (Map.Entry<String, double[]> e : got.entrySet()) {
            devs.add(TorchCases.compare(e.getKey(), e.getValue(), TorchCases.lstmStackWant(c, e.getKey()), TorchCases.RTOL,
                    TorchCases.ATOL));
        }
        report("cpu float64 " + TorchCases.lstmStackName(c), devs);
        for (TorchCases.Deviation d : devs) {
            assertEquals(0, d.bad(), () -> TorchCases.lstmStackName(c) + ": " + d.line());
        }
    }

    @ParameterizedTest(name = "{index}")
    @MethodSource("cases")
    void float32MatchesPyTorchWithinTheFloat32Bound(TorchCases.Case c) {
        Map<String, double[]> got;
        try (Backend backend = new CpuBackend32()) {
            got = TorchCases.runLstmStack(backend, c);
        }
        List<TorchCases.Deviation> devs = new ArrayList<>();
        for (Map.Entry<String, double[]> e : got.entrySet()) {
            double[] w = TorchCases.lstmStackWant(c, e.getKey());
            double scale = 0;
            for (double v : w) {
                scale = Math.max(scale, Math.abs(v));
            }
            devs.add(TorchCases.compare(e.getKey(), e.getValue(), w, F32, F32 * scale + 1e-30));
        }
        report("cpu float32 " + TorchCases.lstmStackName(c), devs);
        for (TorchCases.Deviation d : devs) {
            assertEquals(0, d.bad(), () -> TorchCases.lstmStackName(c) + ": " + d.line());
        }
    }

    static void report(String what, List<TorchCases.Deviation> devs) {
        StringBuilder sb = new StringBuilder("LstmTorchTest " + what + " vs torch "
                + TorchCases.load(TorchCases.LSTM_STACK).node().get("torch_version").asText() + "\n");
        for (TorchCases.Deviation d : devs) {
            sb.append("  ").append(d.line()).append('\n');
        }
        System.out.print(sb);
    }
}
