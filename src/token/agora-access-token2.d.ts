// Types for the parts of agora-token's AccessToken2 module that this project uses.
// The package ships types for its builders only, not for this module.
declare module "agora-token/src/AccessToken2.js" {
  export class Service {
    constructor(serviceType: number);
    __type: number;
    __privileges: Record<number, number>;
    service_type(): number;
    add_privilege(privilege: number, expireSeconds: number): void;
  }
  export class ServiceRtc extends Service {
    constructor(channelName?: string, uid?: string | number);
    __channel_name: Buffer | string;
    __uid: Buffer | string;
    static readonly kPrivilegeJoinChannel: 1;
    static readonly kPrivilegePublishAudioStream: 2;
    static readonly kPrivilegePublishVideoStream: 3;
    static readonly kPrivilegePublishDataStream: 4;
  }
  export class ServiceRtm extends Service {
    constructor(userId?: string);
    __user_id: Buffer | string;
    static readonly kPrivilegeLogin: 1;
  }
  export class ServiceChat extends Service {
    constructor(userId?: string);
    __user_id: Buffer | string;
    static readonly kPrivilegeUser: 1;
    static readonly kPrivilegeApp: 2;
  }
  export class ServiceStreaming extends Service {
    constructor(channelName?: string, account?: string | number);
  }
  export class ServiceFpa extends Service {
    constructor();
  }
  export class ServiceFCdn extends Service {
    constructor(channelName?: string, account?: string | number);
  }
  export class ServiceApaas extends Service {
    constructor(roomUuid?: string, userUuid?: string, role?: number);
  }
  export class Rtm2Permissions {
    add(resourceType: number, permissionType: number, resources: readonly string[]): void;
  }
  export class ServiceRtm2 extends Service {
    constructor(userId?: string, permissions?: Rtm2Permissions);
  }
  export class ServiceConvoAI extends Service {
    constructor();
  }
  export class ServiceStt extends Service {
    constructor();
  }
  export class AccessToken2 {
    constructor(appId: string, appCertificate: string, issueTs: number, expire: number);
    appId: string;
    appCertificate: string;
    issueTs: number;
    expire: number;
    salt: number;
    services: Service[];
    add_service(service: Service): void;
    getServices(serviceType: number): Service[];
    build(): string;
    from_string(token: string): boolean;
    verifySignature(appCertificate: string): boolean;
  }
  export const kRtcServiceType: 1;
  export const kRtmServiceType: 2;
  export const kChatServiceType: 5;
}
