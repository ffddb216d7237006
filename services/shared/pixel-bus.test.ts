import { MemoryPixelBus } from "./pixel-bus.js";
import { describePixelBusContract } from "./test-support/pixel-bus-contract.js";

describePixelBusContract("MemoryPixelBus", async () => {
  const bus = new MemoryPixelBus();
  return { bus, publish: async (canvasId, payload) => bus.publish(canvasId, payload), close: () => bus.close() };
});
