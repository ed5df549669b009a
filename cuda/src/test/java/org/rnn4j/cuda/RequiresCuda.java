package org.rnn4j.cuda;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks a GPU test class: tagged {@code gpu}, and each of its tests runs only where {@link CudaProbe} finds CUDA
 * usable. Elsewhere every test is reported as skipped with the probe's reason (JUnit's "disabled", which surefire counts
 * as skipped and writes into its report with the reason), and the reason is printed once on stderr so a CI log shows
 * why the GPU tests did not run. Tests are skipped one by one rather than the whole class at once, so the report lists
 * every GPU test by name.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("gpu")
@ExtendWith(RequiresCuda.Condition.class)
public @interface RequiresCuda {

    final class Condition implements ExecutionCondition {
        private static final AtomicBoolean TOLD = new AtomicBoolean();

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if (context.getTestMethod().isEmpty()) {
                return ConditionEvaluationResult.enabled("decided per test");
            }
            CudaProbe.Result probe = CudaProbe.get();
            if (probe.usable()) {
                return ConditionEvaluationResult.enabled("CUDA usable: " + probe.reason());
            }
            String reason = "gpu test skipped: CUDA is not usable here: " + probe.reason();
            if (TOLD.compareAndSet(false, true)) {
                System.err.println("[rnn4j] " + reason);
            }
            return ConditionEvaluationResult.disabled(reason);
        }
    }
}
