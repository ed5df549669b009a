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
    static final String SUM_ROWS = "rnn4j_sum_rows";
    static final String SGD_UPDATE = "rnn4j_sgd_update";
    static final String GEMM = "rnn4j_gemm";
    static final String CROSS_ENTROPY_FORWARD = "rnn4j_cross_entropy_forward";
    static final String CROSS_ENTROPY_MEAN_PARTIAL = "rnn4j_cross_entropy_mean_partial";
    static final String MEAN_FINISH = "rnn4j_mean_finish";
    static final String CROSS_ENTROPY_BACKWARD = "rnn4j_cross_entropy_backward";
    static final String MSE_PARTIAL = "rnn4j_mse_partial";
    static final String MSE_BACKWARD = "rnn4j_mse_backward";
    static final String BIAS_ADD = "rnn4j_bias_add";
    static final String L2NORM_PARTIAL = "rnn4j_l2norm_partial";
    static final String L2NORM_FINISH = "rnn4j_l2norm_finish";
    static final String CLIP_COEFFICIENT = "rnn4j_clip_coefficient";
    static final String SCALE_BY = "rnn4j_scale_by";
    static final String EMBEDDING_FORWARD = "rnn4j_embedding_forward";
    static final String EMBEDDING_BACKWARD = "rnn4j_embedding_backward";
    static final String DROPOUT_FORWARD = "rnn4j_dropout_forward";
    static final String DROPOUT_BACKWARD = "rnn4j_dropout_backward";
    static final String ADAM_PREPARE = "rnn4j_adam_prepare";
    static final String ADAM_UPDATE = "rnn4j_adam_update";
    static final String SGD_PREPARE = "rnn4j_sgd_prepare";
    static final String SGD_MOMENTUM_UPDATE = "rnn4j_sgd_momentum_update";
    static final String GEMM_FAST = "rnn4j_gemm_fast";
    static final String SUM_ROWS_CHUNKS = "rnn4j_sum_rows_chunks";

    private static final Map<String, String> FAMILY_OF = Map.ofEntries(
            Map.entry(SIGMOID_FORWARD, "rnn_cell"), Map.entry(SIGMOID_BACKWARD, "rnn_cell"),
            Map.entry(SEED_LSTM_FORWARD, "seed_lstm_cell"), Map.entry(SEED_LSTM_BACKWARD, "seed_lstm_cell"),
            Map.entry(STANDARD_LSTM_FORWARD, "standard_lstm_cell"),
            Map.entry(STANDARD_LSTM_BACKWARD, "standard_lstm_cell"),
            Map.entry(SUM_ROWS, "reduce"), Map.entry(SGD_UPDATE, "sgd"), Map.entry(GEMM, "gemm"),
            Map.entry(CROSS_ENTROPY_FORWARD, "losses"), Map.entry(CROSS_ENTROPY_MEAN_PARTIAL, "losses"),
            Map.entry(MEAN_FINISH, "losses"), Map.entry(CROSS_ENTROPY_BACKWARD, "losses"),
            Map.entry(MSE_PARTIAL, "losses"), Map.entry(MSE_BACKWARD, "losses"),
            Map.entry(BIAS_ADD, "reduce"), Map.entry(L2NORM_PARTIAL, "reduce"), Map.entry(L2NORM_FINISH, "reduce"),
            Map.entry(CLIP_COEFFICIENT, "reduce"), Map.entry(SCALE_BY, "reduce"),
            Map.entry(EMBEDDING_FORWARD, "embedding"), Map.entry(EMBEDDING_BACKWARD, "embedding"),
            Map.entry(DROPOUT_FORWARD, "dropout"), Map.entry(DROPOUT_BACKWARD, "dropout"),
            Map.entry(ADAM_PREPARE, "optim"), Map.entry(ADAM_UPDATE, "optim"), Map.entry(SGD_PREPARE, "optim"),
            Map.entry(SGD_MOMENTUM_UPDATE, "optim"),
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
