// Public shapes of the emulator. index.ts re-exports them; the other modules import from here.

/** A key the emulator knows. Ids that start with "STS." are role keys and require their token. */
export interface EmulatorAccount {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface InstanceSeed {
  DBInstanceId: string;
  RegionId?: string;
  /** Running unless given. */
  DBInstanceStatus?: string;
  DBInstanceType?: 'replicate' | 'sharding';
  /** "1" is a standalone instance. */
  ReplicationFactor?: string;
  /** cloud_essd1, cloud_essd2, cloud_essd3, cloud_essd, cloud_auto or local_ssd. */
  StorageType?: string;
  /** Unlock unless given. */
  LockMode?: string;
  EngineVersion?: string;
  Tags?: { Key: string; Value: string }[];
  /** true unless given; false makes CreateBackup answer OperationDenied.NoDatabase. */
  HasDatabase?: boolean;
}

export type FaultSpec =
  | {
      kind: 'throttle';
      count: number;
      code?: 'Throttling' | 'Throttling.User' | 'Throttling.Api';
      action?: string;
    }
  | { kind: 'rateLimit'; perSecond: number }
  | { kind: 'serverError'; count: number; status?: 500 | 503; action?: string }
  | { kind: 'html502'; count: number; action?: string }
  | { kind: 'reset'; count: number; action?: string; after?: boolean }
  | { kind: 'hang'; count: number; action?: string; after?: boolean };

export interface EmulatorOptions {
  /** 0 (the default) takes any free port. */
  port?: number;
  accounts?: EmulatorAccount[];
  /** Defaults to emulator/seed/instances.json. */
  instances?: InstanceSeed[];
  /** Time a backup job takes from Scheduled to Finished; 3000 unless given. */
  jobDurationMs?: number;
  now?: () => number;
  faults?: FaultSpec[];
}

/**
 * One request as the emulator answered it. A request that got no answer (a reset or hang fault)
 * has status 0 and code "Reset" or "Hang".
 */
export interface EmulatorCall {
  action: string;
  DBInstanceId?: string;
  status: number;
  code?: string;
  at: number;
}

export interface CreatedBackup {
  DBInstanceId: string;
  BackupJobId: string;
  BackupId: string;
  BackupMethod: string;
  createdAt: number;
}

export interface Emulator {
  /** "http://127.0.0.1:<port>" */
  url: string;
  /** "127.0.0.1:<port>", what the client's Config.endpoint takes (with protocol 'http'). */
  endpoint: string;
  port: number;
  calls: EmulatorCall[];
  created: CreatedBackup[];
  setFaults(faults: FaultSpec[]): void;
  clearFaults(): void;
  reset(instances?: InstanceSeed[]): void;
  close(): Promise<void>;
}
