/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
interface ImportMetaEnv {
  /** The trust root's Ed25519 public key (64 hex characters, from `permitd keys show`) the offline scanner accepts; without it the scanner trusts the first root it sees. */
  readonly VITE_TRUST_ROOT?: string
}
