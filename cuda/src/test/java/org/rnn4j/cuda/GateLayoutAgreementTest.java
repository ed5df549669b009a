package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.GateLayout;

/** The kernels' gate order (rnn4j_math.cuh) is the one GateLayout defines. */
class GateLayoutAgreementTest {

    @Test
    void kernelHeaderMirrorsGateLayout() throws IOException {
        // Tests run in the module's directory (cuda/); the header is a source of the sibling module.
        String header = Files.readString(Path.of("..", "native-kernels", "src", "main", "cuda", "rnn4j_math.cuh"));
        Map<String, Integer> want = Map.of("I", GateLayout.I, "F", GateLayout.F, "G", GateLayout.G, "O", GateLayout.O);
        for (Map.Entry<String, Integer> e : want.entrySet()) {
            Matcher m = Pattern.compile("#define RNN4J_GATE_" + e.getKey() + " (\\d+)").matcher(header);
            assertEquals(true, m.find(), "RNN4J_GATE_" + e.getKey() + " is defined");
            assertEquals(e.getValue(), Integer.parseInt(m.group(1)), "gate " + e.getKey());
        }
    }
}
