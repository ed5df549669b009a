package org.rnn4j.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import org.rnn4j.backend.Precision;
import org.rnn4j.kernels.KernelImages;

/**
 * rnn4j's kernel modules loaded into one context from the fatbins on the class path ({@code cuModuleLoadData}), and
 * the entry points of one precision. The entry-point names and their parameters are the ABI documented in
 * {@code native-kernels/README.md}; every one exists as {@code name_f32} and {@code name_f64}.
 */
final class CudaKernels implements AutoCloseable {

    static final String SIGMOID_FORWARD = "rnn4j_sigmoid_forward";
    static final String SIGMOID_BACKWARD = "rnn4j_sigmoid_backward";
    static final String SEED_LSTM_FORWARD = "rnn4j_seed_lstm_forward";
    static final String SEED_LSTM_BACKWARD = "rnn4j_seed_lstm_backward";
    static final String STANDARD_LSTM_FORWARD = "rnn4j_standard_lstm_forward";
    static final String STANDARD_LSTM_BACKWARD = "rnn4j_standard_lstm_backward";
    static final String SIGMOID_SQUARED_ERROR_LOSS = "rnn4j_sigmoid_squared_error_loss";
    static final String SEED_LSTM_SQUARED_LOSS = "rnn4j_seed_lstm_squared_loss";
    static final String SUM_ROWS = "rnn4j_sum_rows";
    static final String SGD_UPDATE = "rnn4j_sgd_update";
    static final String GEMM = "rnn4j_gemm";
    static final String GEMM_FAST = "rnn4j_gemm_fast";
    static final String SUM_ROWS_CHUNKS = "rnn4j_sum_rows_chunks";

    private static final Map<String, String> FAMILY_OF = Map.ofEntries(
            Map.entry(SIGMOID_FORWARD, "rnn_cell"), Map.entry(SIGMOID_BACKWARD, "rnn_cell"),
            Map.entry(SEED_LSTM_FORWARD, "seed_lstm_cell"), Map.entry(SEED_LSTM_BACKWARD, "seed_lstm_cell"),
            Map.entry(STANDARD_LSTM_FORWARD, "standard_lstm_cell"),
            Map.entry(STANDARD_LSTM_BACKWARD, "standard_lstm_cell"),
            Map.entry(SIGMOID_SQUARED_ERROR_LOSS, "losses"), Map.entry(SEED_LSTM_SQUARED_LOSS, "losses"),
            Map.entry(SUM_ROWS, "reduce"), Map.entry(SGD_UPDATE, "sgd"), Map.entry(GEMM, "gemm"),
            Map.entry(GEMM_FAST, "gemm_fast"), Map.entry(SUM_ROWS_CHUNKS, "reduce_chunks"));

    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<String, CUfunction> functions = new HashMap<>();

    /** Loads every family into the current context and looks up this precision's entry points. */
    CudaKernels(Precision precision) {
        String suffix = precision == Precision.FLOAT32 ? "_f32" : "_f64";
        Map<String, CUmodule> byFamily = new HashMap<>();
        try {
            for (String family : KernelImages.FAMILIES) {
                CUmodule module = new CUmodule();
                JCudaDriver.cuModuleLoadData(module, KernelImages.fatbin(family));
                modules.add(module);
                byFamily.put(family, module);
            }
            for (Map.Entry<String, String> e : FAMILY_OF.entrySet()) {
                CUfunction f = new CUfunction();
                JCudaDriver.cuModuleGetFunction(f, byFamily.get(e.getValue()), e.getKey() + suffix);
                functions.put(e.getKey(), f);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    CUfunction get(String name) {
        CUfunction f = functions.get(name);
        if (f == null) {
            throw new IllegalArgumentException("no kernel named " + name);
        }
        return f;
    }

    @Override
    public void close() {
        for (CUmodule m : modules) {
            JCudaDriver.cuModuleUnload(m);
        }
        modules.clear();
        functions.clear();
    }
}
